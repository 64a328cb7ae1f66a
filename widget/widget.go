// Package widget holds the embeddable chat widget (plain JavaScript and
// CSS, no build step) and generates the snippet a site owner pastes into
// their pages.
package widget

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
)

//go:embed widget.js widget.css
var files embed.FS

var (
	jsData  = mustRead("widget.js")
	cssData = mustRead("widget.css")
	etags   = map[string]string{
		"widget.js":  etagOf(jsData),
		"widget.css": etagOf(cssData),
	}
)

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("widget: embedded " + name + " missing: " + err.Error())
	}
	return b
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// JS returns the widget script. The slice is shared: do not modify it.
func JS() []byte { return jsData }

// CSS returns the widget style sheet. The slice is shared: do not modify it.
func CSS() []byte { return cssData }

// ETag returns the strong, quoted HTTP entity tag of "widget.js" or
// "widget.css" (a hash of the content), or "" for any other name.
func ETag(name string) string { return etags[name] }

// ErrBadServerURL is returned by Snippet for a server URL it cannot use.
var ErrBadServerURL = errors.New("widget: server URL must be an absolute http or https URL without credentials, query or fragment")

// Snippet returns the <script> tag to paste into a site's pages so that they
// show the chat widget served by the sitebot server at serverURL
// (e.g. "https://support.example.com" or "https://example.com/sitebot").
func Snippet(serverURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(serverURL))
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrBadServerURL, serverURL)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.Opaque != "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%w: %q", ErrBadServerURL, serverURL)
	}
	u.Scheme = scheme
	base := strings.TrimRight(u.String(), "/")
	src := html.EscapeString(base + "/widget.js")
	attr := html.EscapeString(base)
	return `<script src="` + src + `" data-sitebot-server="` + attr + `" defer></script>`, nil
}
