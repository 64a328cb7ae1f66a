package widget

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAssets(t *testing.T) {
	require.NotEmpty(t, JS())
	require.NotEmpty(t, CSS())
	assert.Contains(t, string(JS()), "attachShadow")
	assert.NotContains(t, string(JS()), "innerHTML", "model text must never be parsed as HTML")
	assert.NotContains(t, string(JS()), "eval(")

	js, css := ETag("widget.js"), ETag("widget.css")
	assert.Regexp(t, `^"[0-9a-f]{24}"$`, js)
	assert.Regexp(t, `^"[0-9a-f]{24}"$`, css)
	assert.NotEqual(t, js, css)
	assert.Equal(t, js, ETag("widget.js"), "stable")
	assert.Empty(t, ETag("other.js"))
}

func TestSnippet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://support.example.com", `<script src="https://support.example.com/widget.js" data-sitebot-server="https://support.example.com" defer></script>`},
		{"http://127.0.0.1:8080/", `<script src="http://127.0.0.1:8080/widget.js" data-sitebot-server="http://127.0.0.1:8080" defer></script>`},
		{" HTTPS://example.com/sitebot/ ", `<script src="https://example.com/sitebot/widget.js" data-sitebot-server="https://example.com/sitebot" defer></script>`},
		{`https://example.com/a"b<c>`, `<script src="https://example.com/a%22b%3Cc%3E/widget.js" data-sitebot-server="https://example.com/a%22b%3Cc%3E" defer></script>`},
		{`https://example.com/a'b&c`, `<script src="https://example.com/a&#39;b&amp;c/widget.js" data-sitebot-server="https://example.com/a&#39;b&amp;c" defer></script>`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Snippet(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSnippetRejects(t *testing.T) {
	for _, in := range []string{
		"", "example.com", "//example.com", "javascript:alert(1)", "data:text/html,x",
		"ftp://example.com", "https://", "https://user:pw@example.com",
		"https://example.com/?a=1", "https://example.com/#x", "https://example.com/?",
		"http://exa mple.com", "mailto:a@example.com",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := Snippet(in)
			require.ErrorIs(t, err, ErrBadServerURL)
			assert.Empty(t, got)
			assert.False(t, strings.Contains(got, "<script"))
		})
	}
}
