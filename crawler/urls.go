package crawler

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// trackingParams are query parameters that only say where a visitor came
// from; they never change what a page shows, so NormalizeURL drops them.
var trackingParams = map[string]bool{
	"gclid":   true,
	"fbclid":  true,
	"mc_cid":  true,
	"mc_eid":  true,
	"msclkid": true,
}

// NormalizeURL returns the form of an absolute http(s) URL that the crawler
// and the index use as a page's identity: scheme and host lower-cased, the
// default port, user info and fragment dropped, tracking parameters (utm_*,
// gclid, fbclid, mc_cid, mc_eid, msclkid) removed, the remaining query
// parameters sorted, dot segments resolved and percent-escapes made
// canonical. Path case and a trailing slash are kept: servers may tell
// /Docs from /docs and /a from /a/.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("crawler: normalize %q: %w", raw, err)
	}
	if err := normalize(u); err != nil {
		return "", fmt.Errorf("crawler: normalize %q: %w", raw, err)
	}
	return u.String(), nil
}

// normalize rewrites u in place; see NormalizeURL.
func normalize(u *url.URL) error {
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return errors.New("not an absolute URL (want http:// or https://)")
		}
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return errors.New("URL has no host")
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""

	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return errors.New("URL has no host")
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host

	p := canonicalEscapes(u.EscapedPath())
	p = removeDotSegments(p)
	if p == "" {
		p = "/"
	}
	setEscapedPath(u, p)

	u.RawQuery = normalizeQuery(u.RawQuery)
	u.ForceQuery = false
	return nil
}

// setEscapedPath sets u's path from its escaped form.
func setEscapedPath(u *url.URL, escaped string) {
	dec, err := url.PathUnescape(escaped)
	if err != nil {
		u.Path, u.RawPath = escaped, ""
		return
	}
	u.Path, u.RawPath = dec, escaped
}

// normalizeQuery drops tracking parameters and sorts the rest, keeping each
// pair's original encoding.
func normalizeQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var kept []string
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		key = strings.ToLower(key)
		if strings.HasPrefix(key, "utm_") || trackingParams[key] {
			continue
		}
		kept = append(kept, canonicalEscapes(escapeQueryBytes(pair)))
	}
	slices.SortStableFunc(kept, func(a, b string) int {
		ka, _, _ := strings.Cut(a, "=")
		kb, _, _ := strings.Cut(b, "=")
		if c := strings.Compare(ka, kb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return strings.Join(kept, "&")
}

// escapeQueryBytes percent-encodes the bytes a query may not hold as they
// are (spaces, controls, non-ASCII, quotes and angle brackets), as browsers
// do, so that the normalised URL reads back the same.
func escapeQueryBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' {
			if b.Len() == 0 {
				b.WriteString(s[:i])
			}
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// canonicalEscapes upper-cases the hex digits of percent-escapes and decodes
// escapes of unreserved characters (RFC 3986 §6.2.2).
func canonicalEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(s[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments implements RFC 3986 §5.2.4 on an absolute path,
// keeping a trailing slash.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}

// origin returns scheme://host[:port] of a normalised URL.
func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// resolve turns href, found on a page at base, into a normalised absolute
// URL. ok is false for links that are not http(s) (mailto:, javascript:, ...).
func resolve(base *url.URL, href string) (*url.URL, bool) {
	href = strings.TrimSpace(href)
	if href == "" {
		return nil, false
	}
	ref, err := url.Parse(href)
	if err != nil {
		return nil, false
	}
	u := base.ResolveReference(ref)
	if err := normalize(u); err != nil {
		return nil, false
	}
	return u, true
}

// wwwVariant reports whether hosts a and b differ only by a leading "www.".
func wwwVariant(a, b string) bool {
	return a == b || "www."+a == b || a == "www."+b
}
