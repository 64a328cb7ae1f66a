package profile

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/llm"
)

// backend is a company backend on loopback that serves profiles by id.
func backend(t *testing.T, calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch strings.TrimPrefix(r.URL.Path, "/profiles/") {
		case "cust 1":
			w.Write([]byte(`{"name": "Ada", "plan": "Business"}`))
		case "broken":
			http.Error(w, "down", http.StatusInternalServerError)
		case "slow":
			time.Sleep(300 * time.Millisecond)
			w.Write([]byte(`{"name": "Slow"}`))
		case "array":
			w.Write([]byte(`[1, 2]`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetcher(t *testing.T) {
	var calls atomic.Int32
	srv := backend(t, &calls)
	f, err := NewFetcher(srv.URL+"/profiles/{id}", 100*time.Millisecond, time.Minute, nil, nil)
	require.NoError(t, err)
	ctx := context.Background()

	fields, ok, err := f.Profile(ctx, "cust 1") // the id is escaped into the path
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, []llm.ProfileField{{Name: "name", Value: "Ada"}, {Name: "plan", Value: "Business"}}, fields)
	_, _, _ = f.Profile(ctx, "cust 1")
	assert.EqualValues(t, 1, calls.Load(), "answers are cached")

	for _, id := range []string{"nobody", "broken", "slow", "array"} {
		fields, ok, err := f.Profile(ctx, id)
		assert.NoError(t, err, id, "a failing backend is never an error to the visitor")
		assert.False(t, ok, id)
		assert.Empty(t, fields, id)
	}
}

type staticSource map[string][]llm.ProfileField

func (s staticSource) Profile(_ context.Context, id string) ([]llm.ProfileField, bool, error) {
	p, ok := s[id]
	return p, ok, nil
}

func TestFetcherAsksTheStoreFirst(t *testing.T) {
	var calls atomic.Int32
	srv := backend(t, &calls)
	pushed := staticSource{"cust 1": {{Name: "name", Value: "Pushed"}}}
	f, err := NewFetcher(srv.URL+"/profiles/{id}", time.Second, time.Minute, pushed, nil)
	require.NoError(t, err)
	fields, ok, _ := f.Profile(context.Background(), "cust 1")
	require.True(t, ok)
	assert.Equal(t, "Pushed", fields[0].Value)
	assert.Zero(t, calls.Load())
}

func TestNewFetcherChecksTheURL(t *testing.T) {
	for _, bad := range []string{"ftp://x/{id}", "https://x/profiles", "not a url {id}", ""} {
		_, err := NewFetcher(bad, time.Second, time.Minute, nil, nil)
		assert.Error(t, err, bad)
	}
}
