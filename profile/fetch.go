package profile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sitebot/sitebot/llm"
)

// ProfileSource is what the server asks for a verified visitor's profile
// (server.ProfileSource; declared here too to keep the dependency one way).
type ProfileSource interface {
	Profile(ctx context.Context, id string) ([]llm.ProfileField, bool, error)
}

// Fetcher gets profiles from the company's own backend at chat time: a GET
// of a URL template with "{id}" replaced by the (escaped) customer id,
// answered with a JSON object (200) or 404 for no profile. Answers are
// cached for a while; a slow or failing backend means "no profile" (the
// visitor gets the anonymous experience), never an error to the visitor.
type Fetcher struct {
	template string
	client   *http.Client
	ttl      time.Duration
	log      *slog.Logger
	next     ProfileSource // asked first; nil: the backend only

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	fields []llm.ProfileField
	ok     bool
	until  time.Time
}

// NewFetcher returns a Fetcher for urlTemplate (an http(s) URL holding
// "{id}"), asking next first when it is not nil (the profiles pushed through
// the admin API win over the backend's). timeout bounds one request; ttl is
// how long an answer, "no profile" included, is cached.
func NewFetcher(urlTemplate string, timeout, ttl time.Duration, next ProfileSource, log *slog.Logger) (*Fetcher, error) {
	u, err := url.Parse(strings.ReplaceAll(urlTemplate, "{id}", "x"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(urlTemplate, "{id}") {
		return nil, fmt.Errorf("profile: fetch URL %q must be an http(s) URL holding {id}", urlTemplate)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fetcher{template: urlTemplate, client: &http.Client{Timeout: timeout}, ttl: ttl, log: log, next: next, cache: map[string]cached{}}, nil
}

// Profile implements ProfileSource. Its error is always nil: failures are
// logged (with the customer id only) and mean "no profile".
func (f *Fetcher) Profile(ctx context.Context, id string) ([]llm.ProfileField, bool, error) {
	if f.next != nil {
		if fields, ok, err := f.next.Profile(ctx, id); err == nil && ok {
			return fields, true, nil
		}
	}
	f.mu.Lock()
	c, hit := f.cache[id]
	f.mu.Unlock()
	if hit && time.Now().Before(c.until) {
		return c.fields, c.ok, nil
	}
	fields, ok, err := f.fetch(ctx, id)
	if err != nil {
		f.log.Warn("profile backend failed: answering without a profile", "customer", id, "err", err)
		return nil, false, nil // not cached: the next chat tries again
	}
	f.mu.Lock()
	f.cache[id] = cached{fields: fields, ok: ok, until: time.Now().Add(f.ttl)}
	f.mu.Unlock()
	return fields, ok, nil
}

func (f *Fetcher) fetch(ctx context.Context, id string) ([]llm.ProfileField, bool, error) {
	u := strings.ReplaceAll(f.template, "{id}", url.PathEscape(id))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, false, nil
	case resp.StatusCode != http.StatusOK:
		return nil, false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocBytes+1))
	if err != nil {
		return nil, false, err
	}
	doc, err := Normalize(body) // refuses more than MaxDocBytes
	if err != nil {
		return nil, false, err
	}
	fields, err := Fields(doc)
	if err != nil {
		return nil, false, err
	}
	return fields, true, nil
}
