package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chatFrom posts a chat message as if from remote, with an optional
// forged X-Forwarded-For, and returns the status.
func chatFrom(t *testing.T, h http.Handler, remote, xff string) *httptest.ResponseRecorder {
	t.Helper()
	req := chatRequest(`{"message": "How do I download invoices?"}`, "")
	req.RemoteAddr = remote
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return do(h, req)
}

func TestRateLimitPerIP(t *testing.T) {
	s := New(Config{RateLimit: 30, Logger: quietLogger()}, &fakeRetriever{result: hits()}, nil, nil)
	h := s.Handler()
	limited := 0
	for i := range 40 {
		// A forged X-Forwarded-For changes nothing: no proxy is trusted.
		rec := chatFrom(t, h, "203.0.113.7:5000", fmt.Sprintf("198.51.100.%d", i))
		if rec.Code == http.StatusTooManyRequests {
			limited++
			var e map[string]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
			assert.NotEmpty(t, e["error"])
			assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		}
	}
	assert.GreaterOrEqual(t, limited, 40-10-1, "a burst of 10, then the limit holds")
	assert.Equal(t, http.StatusOK, chatFrom(t, h, "203.0.113.8:5000", "").Code, "another IP is not limited")
}

func TestRateLimitBehindTrustedProxy(t *testing.T) {
	s := New(Config{RateLimit: 30, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Logger: quietLogger()},
		&fakeRetriever{result: hits()}, nil, nil)
	h := s.Handler()
	for range 15 {
		chatFrom(t, h, "10.1.2.3:4000", "203.0.113.7")
	}
	assert.Equal(t, http.StatusTooManyRequests, chatFrom(t, h, "10.1.2.3:4000", "203.0.113.7").Code, "the client behind the proxy is limited")
	assert.Equal(t, http.StatusOK, chatFrom(t, h, "10.1.2.3:4000", "203.0.113.9").Code, "other clients of the proxy are not")
}

func TestCORSOnlyConfiguredOrigins(t *testing.T) {
	s := New(Config{AllowOrigins: []string{"https://www.example.com"}, Logger: quietLogger()}, &fakeRetriever{result: hits()}, nil, nil)
	for origin, allowed := range map[string]bool{"https://www.example.com": true, "https://evil.example": false} {
		req := httptest.NewRequest(http.MethodOptions, "/api/chat", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		rec := do(s.Handler(), req)
		got := rec.Header().Get("Access-Control-Allow-Origin")
		if allowed {
			assert.Equal(t, origin, got)
		} else {
			assert.Empty(t, got, "no allow header for %s", origin)
		}
		req = chatRequest(`{"message": "How do I download invoices?"}`, "")
		req.Header.Set("Origin", origin)
		rec = do(s.Handler(), req)
		assert.Equal(t, allowed, strings.Contains(rec.Header().Get("Access-Control-Allow-Origin"), origin))
	}
}
