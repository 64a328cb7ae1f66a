package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
)

func adminRequest(method, path, key, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return req
}

func TestAdminNeedsTheKey(t *testing.T) {
	crawl := func(context.Context, string) (indexer.Stats, error) { return indexer.Stats{}, nil }
	off := New(Config{Logger: quietLogger(), Crawl: crawl}, &fakeRetriever{}, nil, nil)
	on := New(Config{Logger: quietLogger(), Crawl: crawl, AdminKey: "s3cret-key"}, &fakeRetriever{}, nil, nil)
	tests := []struct {
		name string
		s    *Server
		key  string
		want int
	}{
		{"no key configured", off, "anything", http.StatusForbidden},
		{"no key sent", on, "", http.StatusUnauthorized},
		{"wrong key", on, "s3cret-kez", http.StatusUnauthorized},
		{"prefix of the key", on, "s3cret", http.StatusUnauthorized},
		{"right key", on, "s3cret-key", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(tt.s.Handler(), adminRequest(http.MethodGet, "/api/admin/crawl", tt.key, ""))
			assert.Equal(t, tt.want, rec.Code, rec.Body.String())
			if tt.want != http.StatusOK {
				var e map[string]string
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
				assert.NotEmpty(t, e["error"])
				assert.NotContains(t, rec.Body.String(), "s3cret-key")
			}
		})
	}
}

// TestAdminCrawl drives the crawl endpoint with a fake CrawlFunc that
// blocks until released, to see "running", the 409 and the final status.
func TestAdminCrawl(t *testing.T) {
	release := make(chan struct{})
	var got string
	crawl := func(ctx context.Context, url string) (indexer.Stats, error) {
		got = url
		select {
		case <-release:
		case <-ctx.Done():
			return indexer.Stats{}, ctx.Err()
		}
		if strings.Contains(url, "broken") {
			return indexer.Stats{}, errors.New("crawler: site unreachable")
		}
		return indexer.Stats{Pages: 3, New: 3, Chunks: 7}, nil
	}
	s := New(Config{Logger: quietLogger(), Crawl: crawl, AdminKey: "k"}, &fakeRetriever{}, nil, nil)
	h := s.Handler()

	for _, body := range []string{`{"url": "ftp://x/"}`, `{"url": ""}`, `{"url": 5}`} {
		rec := do(h, adminRequest(http.MethodPost, "/api/admin/crawl", "k", body))
		assert.Equal(t, http.StatusBadRequest, rec.Code, body)
	}

	rec := do(h, adminRequest(http.MethodPost, "/api/admin/crawl", "k", `{"url": "https://docs.example.com/"}`))
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	rec = do(h, adminRequest(http.MethodPost, "/api/admin/crawl", "k", `{"url": "https://docs.example.com/"}`))
	assert.Equal(t, http.StatusConflict, rec.Code, "one crawl at a time")

	status := func() CrawlStatus {
		rec := do(h, adminRequest(http.MethodGet, "/api/admin/crawl", "k", ""))
		require.Equal(t, http.StatusOK, rec.Code)
		var st CrawlStatus
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
		return st
	}
	assert.True(t, status().Running)
	close(release)
	require.Eventually(t, func() bool { return !status().Running }, 5*time.Second, 10*time.Millisecond)
	st := status()
	assert.Equal(t, "https://docs.example.com/", got)
	require.NotNil(t, st.Stats)
	assert.Equal(t, 3, st.Stats.Pages)
	assert.NotNil(t, st.FinishedAt)

	rec = do(h, adminRequest(http.MethodPost, "/api/admin/crawl", "k", `{"url": "https://broken.example.com/"}`))
	require.Equal(t, http.StatusAccepted, rec.Code)
	require.Eventually(t, func() bool { return !status().Running }, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, status().Error, "unreachable")
}
