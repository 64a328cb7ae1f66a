package crawler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP://Example.com:80/a/?utm_source=x#top", "http://example.com/a/"},
		{"https://example.com/b?id=1&gclid=z", "https://example.com/b?id=1"},
		{"https://EXAMPLE.com:443", "https://example.com/"},
		{"https://example.com:8443/x", "https://example.com:8443/x"},
		{"http://example.com:443/x", "http://example.com:443/x"},
		{"https://example.com/Docs/Page.HTML", "https://example.com/Docs/Page.HTML"},
		{"https://example.com/a/b/", "https://example.com/a/b/"},
		{"https://example.com/a/b", "https://example.com/a/b"},
		{"https://example.com/a/./b/../c", "https://example.com/a/c"},
		{"https://example.com/a/b/..", "https://example.com/a/"},
		{"https://example.com/../../x", "https://example.com/x"},
		{"https://example.com/a/.", "https://example.com/a/"},
		{"https://example.com/?b=2&a=1&c=3", "https://example.com/?a=1&b=2&c=3"},
		{"https://example.com/?a=2&a=1", "https://example.com/?a=1&a=2"},
		{"https://example.com/?UTM_Medium=x&utm_campaign=y&fbclid=1&mc_cid=2&mc_eid=3&msclkid=4&q=go", "https://example.com/?q=go"},
		{"https://example.com/?utm_source=x", "https://example.com/"},
		{"https://example.com/?", "https://example.com/"},
		{"https://example.com/x?q=a+b&p=%2f", "https://example.com/x?p=%2F&q=a+b"},
		{"https://example.com/%7euser/%e3%83%84", "https://example.com/~user/%E3%83%84"},
		{"https://example.com/вопросы", "https://example.com/%D0%B2%D0%BE%D0%BF%D1%80%D0%BE%D1%81%D1%8B"},
		{"https://user:pass@example.com/", "https://example.com/"},
		{"https://example.com./x", "https://example.com/x"},
		{"  https://example.com/x  ", "https://example.com/x"},
		{"http://[::1]:80/x", "http://[::1]/x"},
		{"http://[::1]:8080/x", "http://[::1]:8080/x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeURL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			again, err := NormalizeURL(got)
			require.NoError(t, err)
			assert.Equal(t, got, again, "normalising is idempotent")
		})
	}
}

func TestNormalizeURLErrors(t *testing.T) {
	for _, in := range []string{"", "/relative/path", "example.com", "ftp://example.com/x", "mailto:a@example.com", "javascript:alert(1)", "https://", "http://%zz/"} {
		t.Run(in, func(t *testing.T) {
			_, err := NormalizeURL(in)
			assert.Error(t, err)
		})
	}
}

func TestRemoveDotSegments(t *testing.T) {
	tests := map[string]string{
		"/a/b/c/./../../g":    "/a/g",
		"/mid/content=5/../6": "/mid/6",
		"/a/..":               "/",
		"/":                   "/",
		"/a.b/c.d":            "/a.b/c.d",
		"/./":                 "/",
	}
	for in, want := range tests {
		assert.Equal(t, want, removeDotSegments(in), in)
	}
}
