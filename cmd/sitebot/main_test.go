package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/sitebot/sitebot/widget"
)

// siteServer serves a fixture site over loopback.
func siteServer(t *testing.T, rel string) (*httptest.Server, string) {
	t.Helper()
	dir := testenv.Shared(t, rel)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv, dir
}

// sitebot runs the command line in-process with no environment but env.
func sitebot(t testing.TB, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

var crawled struct {
	once sync.Once
	dir  string
	site *httptest.Server
	man  testenv.SiteManifest
	sum  indexer.Stats
	err  error
}

// crawledPlausible crawls the plausible fixture once per test binary into a
// data directory that the read-only tests share.
func crawledPlausible(t *testing.T) (dataDir, siteURL string, m testenv.SiteManifest) {
	t.Helper()
	dir := testenv.Shared(t, "fixtures/sites/plausible")
	crawled.once.Do(func() {
		crawled.site = httptest.NewServer(withWidgetPage(http.FileServer(http.Dir(dir))))
		testenv.ReadManifest(t, dir, &crawled.man)
		crawled.dir, crawled.err = os.MkdirTemp("", "sitebot-test-")
		if crawled.err != nil {
			return
		}
		var out string
		out, _, crawled.err = sitebot(t, nil, "crawl", crawled.site.URL+"/", "--data", crawled.dir, "--json")
		if crawled.err == nil {
			crawled.err = json.Unmarshal([]byte(lastLine(out)), &crawled.sum)
		}
	})
	require.NoError(t, crawled.err)
	return crawled.dir, crawled.site.URL, crawled.man
}

// withWidgetPage adds to a fixture site a page that embeds the widget of
// the sitebot server named by its ?server= parameter, as a site owner would
// after pasting the snippet. No page links to it, so crawls never see it.
func withWidgetPage(site http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", site)
	mux.HandleFunc("/sitebot-widget-test.html", func(w http.ResponseWriter, r *http.Request) {
		snippet, err := widget.Snippet(r.URL.Query().Get("server"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html lang=\"en\"><head><title>Help</title></head><body><h1>Our help center</h1>%s</body></html>", snippet)
	})
	return mux
}

func TestMain(m *testing.M) {
	// A test may run this binary as sitebot itself, e.g. to kill it -9.
	if args := os.Getenv(childArgsEnv); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		if err := run(context.Background(), a, func(string) string { return "" }, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "sitebot:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if crawled.site != nil {
		crawled.site.Close()
	}
	if crawled.dir != "" {
		os.RemoveAll(crawled.dir)
	}
	os.Exit(code)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestCrawlPlausibleIndexesEveryManifestPage(t *testing.T) {
	data, siteURL, m := crawledPlausible(t)
	s := crawled.sum
	assert.Equal(t, len(m.Pages), s.Pages, "pages crawled")
	assert.Equal(t, len(m.Pages), s.New, "all pages are new on the first crawl")
	assert.Zero(t, s.Changed+s.Unchanged+s.Removed)
	assert.Greater(t, s.Chunks, s.Pages, "chunks")
	assert.Positive(t, s.Skipped, "the fixture's traps are reported as skipped")

	out, _, err := sitebot(t, nil, "pages", "--json", "--data", data)
	require.NoError(t, err)
	var pages []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &pages))
	got := map[string]map[string]any{}
	for _, p := range pages {
		for _, k := range []string{"url", "title", "lang", "chunks", "faqs"} {
			require.Contains(t, p, k)
		}
		got[strings.TrimPrefix(p["url"].(string), siteURL)] = p
	}
	assert.Len(t, got, len(m.Pages), "one entry per page, no duplicates")
	for _, path := range m.Pages {
		p, ok := got[path]
		if assert.True(t, ok, "page %s indexed", path) {
			assert.Equal(t, m.Titles[path], p["title"], path)
		}
	}
	for _, bad := range m.MustNotIndex {
		assert.NotContains(t, got, bad.Path)
	}
}

func TestRecrawlIsIncremental(t *testing.T) {
	srv, _ := siteServer(t, "fixtures/sites/letsencrypt-faq")
	data := t.TempDir()
	var first, second indexer.Stats
	out, _, err := sitebot(t, nil, "crawl", srv.URL+"/", "--data", data, "--json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &first))
	out, _, err = sitebot(t, nil, "crawl", srv.URL+"/", "--data", data, "--json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &second))

	assert.Equal(t, 5, first.Pages)
	assert.Equal(t, first.Pages, first.New)
	assert.Equal(t, first.Pages, second.Unchanged, "nothing changed between crawls")
	assert.Zero(t, second.New+second.Changed+second.Removed)
	assert.Equal(t, first.Chunks, second.Chunks, "a re-crawl replaces chunks, never duplicates them")
}

func TestAskFindsThePageAQuestionComesFrom(t *testing.T) {
	data, siteURL, m := crawledPlausible(t)
	require.NotEmpty(t, m.FAQPairs)
	for _, faq := range m.FAQPairs {
		t.Run(faq.Question, func(t *testing.T) {
			out, _, err := sitebot(t, nil, "ask", "--json", "--data", data, "--model", "", faq.Question)
			require.NoError(t, err)
			var resp struct {
				Answer         string `json:"answer"`
				Refused        *bool  `json:"refused"`
				Handoff        *bool  `json:"handoff"`
				Mode           string `json:"mode"`
				ConversationID string `json:"conversation_id"`
				Sources        []struct {
					URL   string   `json:"url"`
					Title string   `json:"title"`
					Score *float64 `json:"score"`
				} `json:"sources"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &resp), out)
			require.NotNil(t, resp.Refused)
			require.NotNil(t, resp.Handoff)
			assert.False(t, *resp.Refused)
			assert.Equal(t, "extractive", resp.Mode)
			assert.NotEmpty(t, resp.Answer)
			assert.NotEmpty(t, resp.ConversationID)
			var urls []string
			for _, s := range resp.Sources {
				require.NotNil(t, s.Score)
				urls = append(urls, strings.SplitN(strings.TrimPrefix(s.URL, siteURL), "#", 2)[0])
			}
			assert.Contains(t, urls, faq.URL)
		})
	}
}

func TestAskRefusesWhatTheSiteCannotAnswer(t *testing.T) {
	data, _, _ := crawledPlausible(t)
	out, _, err := sitebot(t, nil, "ask", "--json", "--data", data, "--model", "", "what is the capital of australia")
	require.NoError(t, err)
	var resp struct {
		Refused bool `json:"refused"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &resp))
	assert.True(t, resp.Refused, out)

	out, _, err = sitebot(t, nil, "ask", "--json", "--data", data, "--model", "", "I want to talk to a human")
	require.NoError(t, err)
	var h struct {
		Handoff bool `json:"handoff"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &h))
	assert.True(t, h.Handoff, out)
}

func TestUserErrors(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/"
	}()
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	}))
	defer empty.Close()
	missing := filepath.Join(t.TempDir(), "nothing-here")
	jsOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><html><head><title>App</title></head><body><div id="root"></div><script src="/app.js"></script></body></html>`)
	}))
	defer jsOnly.Close()
	headingsOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><html><head><title>Shop</title></head><body><main><h1>Welcome</h1><h2>Loading…</h2></main></body></html>`)
	}))
	defer headingsOnly.Close()

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable URL", []string{"crawl", closed, "--data", t.TempDir()}, "connection refused"},
		{"empty site", []string{"crawl", empty.URL + "/", "--data", t.TempDir()}, "no indexable pages found: " + empty.URL + "/ (HTTP 404)"},
		{"site rendered by JavaScript", []string{"crawl", jsOnly.URL + "/", "--data", t.TempDir()}, "(no text content)"},
		{"pages without text", []string{"crawl", headingsOnly.URL + "/", "--data", t.TempDir()}, "no text found on the 1 pages"},
		{"not a URL", []string{"crawl", "ftp://example.com/", "--data", t.TempDir()}, "not a website URL"},
		{"missing data dir (ask)", []string{"ask", "--data", missing, "hello there"}, "sitebot crawl URL"},
		{"missing data dir (serve)", []string{"serve", "--data", missing}, "sitebot crawl URL"},
		{"missing data dir (pages)", []string{"pages", "--data", missing}, "sitebot crawl URL"},
		{"bad flag", []string{"crawl", "--max-pagez", "3", "http://example.com/"}, "flag provided but not defined: -max-pagez"},
		{"bad flag value", []string{"crawl", "--max-pages", "0", "http://example.com/", "--data", t.TempDir()}, "--max-pages"},
		{"unknown command", []string{"crawlx"}, `unknown command "crawlx"`},
		{"missing argument", []string{"crawl"}, "usage: sitebot crawl URL"},
		{"bad widget server", []string{"widget", "--server", "javascript:alert(1)"}, "--server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := sitebot(t, nil, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestHelp(t *testing.T) {
	out, _, err := sitebot(t, nil, "--help")
	require.NoError(t, err)
	for _, c := range commands() {
		assert.Contains(t, out, c.name)
	}
	for _, c := range commands() {
		out, _, err := sitebot(t, nil, c.name, "--help")
		require.NoError(t, err, c.name)
		assert.Contains(t, out, "Usage: sitebot "+c.name)
	}
	out, _, err = sitebot(t, nil, "crawl", "--help")
	require.NoError(t, err)
	assert.Contains(t, out, "-max-pages")
}

func TestFlagsAfterArgumentsAndFromEnv(t *testing.T) {
	srv, _ := siteServer(t, "fixtures/sites/letsencrypt-faq")
	data := t.TempDir()
	// Flags after the URL, and --max-pages from the environment.
	out, _, err := sitebot(t, map[string]string{"SITEBOT_MAX_PAGES": "2"}, "crawl", srv.URL+"/", "--data", data, "--json")
	require.NoError(t, err)
	var s indexer.Stats
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &s))
	assert.Equal(t, 2, s.Pages)

	// --data from the environment.
	out, _, err = sitebot(t, map[string]string{"SITEBOT_DATA": data}, "pages", "--json")
	require.NoError(t, err)
	var pages []any
	require.NoError(t, json.Unmarshal([]byte(out), &pages))
	assert.Len(t, pages, 2)

	_, _, err = sitebot(t, map[string]string{"SITEBOT_MAX_PAGES": "many"}, "crawl", srv.URL+"/")
	require.ErrorContains(t, err, "SITEBOT_MAX_PAGES")
}

// TestBusinessHoursFlag: --business-hours (or SITEBOT_BUSINESS_HOURS) is
// validated before anything starts; any IANA zone works (time/tzdata).
func TestBusinessHoursFlag(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing-here")
	_, _, err := sitebot(t, map[string]string{"SITEBOT_BUSINESS_HOURS": "Mon-Fri 9-17"}, "serve", "--data", missing)
	require.ErrorContains(t, err, "--business-hours (SITEBOT_BUSINESS_HOURS)")
	_, _, err = sitebot(t, nil, "serve", "--data", missing, "--business-hours", "Mon-Fri 09:00-17:00 Nowhere/Special")
	require.ErrorContains(t, err, "time zone")
	// Valid hours get past validation to the next problem: no index.
	_, _, err = sitebot(t, map[string]string{"SITEBOT_BUSINESS_HOURS": "Mon-Fri 09:00-17:00 Pacific/Chatham"}, "serve", "--data", missing)
	require.ErrorContains(t, err, "sitebot crawl URL")
}

func TestWidgetSnippet(t *testing.T) {
	out, _, err := sitebot(t, nil, "widget", "--server", "https://bot.example.com")
	require.NoError(t, err)
	assert.Contains(t, out, `<script src="https://bot.example.com/widget.js"`)
}

var servingAt = regexp.MustCompile(`answering at (http://\S+) `)

// startServe runs `sitebot serve` on a free port until the test ends and
// returns its base URL.
func startServe(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testenv.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "serve shuts down cleanly")
		case <-time.After(15 * time.Second):
			t.Error("serve did not shut down within 15s")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingAt.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve printed no address:\n%s\n%s", out.String(), errOut.String())
	return ""
}

func TestServeAnswersOverHTTP(t *testing.T) {
	data, siteURL, m := crawledPlausible(t)
	base := startServe(t, nil, "--data", data, "--model", "")

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(base + "/widget.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	faq := m.FAQPairs[0]
	body := `{"message": ` + mustJSON(t, faq.Question) + `}`
	req, _ := http.NewRequest(http.MethodPost, base+"/api/chat", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	var events []string
	var final string
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			events = append(events, event)
		case strings.HasPrefix(line, "data: ") && event == "done":
			final = strings.TrimPrefix(line, "data: ")
		}
	}
	require.NotEmpty(t, events)
	assert.Equal(t, "token", events[0])
	assert.Equal(t, "done", events[len(events)-1])
	assert.Contains(t, final, siteURL+faq.URL)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestServeWithOllama checks the wiring to a real Ollama server with the
// tiny model: its text is nonsense, so only the mode and shape are checked.
func TestServeWithOllama(t *testing.T) {
	ollama, model := testenv.Ollama(t)
	data, _, m := crawledPlausible(t)
	base := startServe(t, nil, "--data", data, "--ollama", ollama, "--model", model)

	body := `{"message": ` + mustJSON(t, m.FAQPairs[0].Question) + `}`
	resp, err := http.Post(base+"/api/chat", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Answer  string `json:"answer"`
		Mode    string `json:"mode"`
		Sources []any  `json:"sources"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, "llm", got.Mode)
	assert.NotEmpty(t, got.Answer)
	assert.NotEmpty(t, got.Sources)

	// A model that is not pulled is named at start-up, and answers are extractive.
	var out, errOut testenv.SyncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, []string{"ask", "--json", "--data", data, "--ollama", ollama, "--model", "no-such-model", m.FAQPairs[0].Question},
		func(string) string { return "" }, &out, &errOut)
	require.NoError(t, err)
	assert.Contains(t, errOut.String(), "ollama pull no-such-model")
	assert.Contains(t, out.String(), `"mode":"extractive"`)
}

// TestRecrawlAfterSiteChanges crawls a copy of the plausible fixture three
// times: unchanged (nothing re-indexed, pages answered 304), then with one
// page edited and one deleted (re-indexed and removed from answers).
func TestRecrawlAfterSiteChanges(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	require.NoError(t, os.CopyFS(dir, os.DirFS(testenv.Shared(t, "fixtures/sites/plausible"))))
	site := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer site.Close()
	data := t.TempDir()
	crawl := func() indexer.Stats {
		t.Helper()
		out, _, err := sitebot(t, nil, "crawl", site.URL+"/", "--data", data, "--json")
		require.NoError(t, err)
		var s indexer.Stats
		require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &s))
		return s
	}
	sources := func(question string) []string {
		t.Helper()
		out, _, err := sitebot(t, nil, "ask", "--json", "--data", data, "--model", "", question)
		require.NoError(t, err)
		var resp struct {
			Sources []struct{ URL string } `json:"sources"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &resp))
		var urls []string
		for _, s := range resp.Sources {
			urls = append(urls, strings.SplitN(strings.TrimPrefix(s.URL, site.URL), "#", 2)[0])
		}
		return urls
	}

	first := crawl()
	require.Equal(t, first.Pages, first.New)
	assert.Contains(t, sources("keyboard shortcuts for the dashboard"), "/docs/keyboard-shortcuts.html")

	second := crawl()
	assert.Equal(t, first.Pages, second.Pages)
	assert.Equal(t, second.Pages, second.Unchanged, "an unchanged site re-indexes nothing")
	assert.Zero(t, second.New+second.Changed+second.Removed)
	assert.Equal(t, first.Chunks, second.Chunks)

	// Edit one page, delete another.
	page := filepath.Join(dir, "docs", "2fa.html")
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	edited := strings.Replace(string(b), "</h1>", "</h1><p>Recovery codes are printed on the zebra-lantern card in your account.</p>", 1)
	require.NotEqual(t, string(b), edited)
	require.NoError(t, os.WriteFile(page, []byte(edited), 0o644))
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(page, later, later))
	require.NoError(t, os.Remove(filepath.Join(dir, "docs", "keyboard-shortcuts.html")))

	third := crawl()
	assert.Equal(t, 1, third.Changed, "the edited page is re-indexed")
	assert.Equal(t, 1, third.Removed, "the deleted page leaves the index")
	assert.Zero(t, third.New)
	assert.Equal(t, first.Pages-1, third.Pages)
	assert.Contains(t, sources("where are the zebra-lantern recovery codes"), "/docs/2fa.html")
	assert.NotContains(t, sources("keyboard shortcuts for the dashboard"), "/docs/keyboard-shortcuts.html")
}

// TestAdminCrawlRefusesInternalAddresses starts crawls over the admin API:
// a site on loopback is refused (and gets no connection) unless the
// operator allowed loopback with --crawl-allow-net.
func TestAdminCrawlRefusesInternalAddresses(t *testing.T) {
	data, _, _ := crawledPlausible(t)
	var hits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html lang="en"><head><title>Intranet</title></head><body><main><h1>Intranet</h1><p>The staff canteen opens at eight on weekdays.</p></main></body></html>`)
	}))
	defer internal.Close()

	crawlVia := func(base, target string) map[string]any {
		t.Helper()
		post := func(method, body string) *http.Response {
			req, _ := http.NewRequest(method, base+"/api/admin/crawl", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer test-admin-key")
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			return resp
		}
		resp := post(http.MethodPost, `{"url": "`+target+`"}`)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		var status map[string]any
		require.Eventually(t, func() bool {
			resp := post(http.MethodGet, "")
			defer resp.Body.Close()
			status = nil
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&status))
			return status["running"] == false
		}, 20*time.Second, 20*time.Millisecond)
		return status
	}

	own := t.TempDir()
	require.NoError(t, os.CopyFS(own, os.DirFS(data)))
	base := startServe(t, nil, "--data", own, "--model", "", "--admin-key", "test-admin-key")
	port := internal.Listener.Addr().(*net.TCPAddr).Port
	for _, target := range []string{
		internal.URL + "/",                                 // an address: refused before dialling
		fmt.Sprintf("http://localhost:%d/", port),          // a name: refused when the resolved address is dialled
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port), // IPv4-mapped IPv6
	} {
		status := crawlVia(base, target)
		assert.Contains(t, status["error"], "not allowed", target)
	}
	assert.Zero(t, hits.Load(), "no connection may reach the loopback site")

	allowed := t.TempDir()
	require.NoError(t, os.CopyFS(allowed, os.DirFS(data)))
	base = startServe(t, map[string]string{"SITEBOT_ADMIN_KEY": "test-admin-key"},
		"--data", allowed, "--model", "", "--crawl-allow-net", "127.0.0.0/8")
	status := crawlVia(base, internal.URL+"/")
	assert.Empty(t, status["error"])
	assert.Positive(t, hits.Load())
	stats, _ := status["stats"].(map[string]any)
	assert.EqualValues(t, 1, stats["new"], "the intranet page is indexed")
}

// TestEvalJSONShape runs `sitebot eval --json` on a question set written
// from the fixture's manifest and checks the object DESIGN.md fixes.
func TestEvalJSONShape(t *testing.T) {
	data, _, m := crawledPlausible(t)
	var lines []string
	for i, f := range m.FAQPairs {
		lines = append(lines, mustJSON(t, map[string]any{"id": fmt.Sprint("faq-", i), "question": f.Question, "lang": "en",
			"label": "answerable", "site": "plausible", "expected_urls": []string{f.URL}}))
	}
	lines = append(lines,
		`{"id": "o1", "question": "what is the boiling point of water at sea level", "lang": "en", "label": "out_of_scope", "site": "plausible", "expected_urls": []}`,
		`{"id": "h1", "question": "I want to speak to a human agent please", "lang": "en", "label": "handoff", "site": "plausible", "expected_urls": []}`,
		`{"id": "x1", "question": "Wie kündige ich mein Abo?", "lang": "de", "label": "out_of_scope", "site": "other", "expected_urls": []}`)
	file := filepath.Join(t.TempDir(), "set.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644))

	out, _, err := sitebot(t, nil, "eval", file, "--data", data, "--model", "", "--json", "--site", "plausible")
	require.NoError(t, err)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	r := map[string]map[string]any{}
	for _, label := range []string{"answerable", "out_of_scope", "handoff"} {
		var v map[string]any
		require.NoError(t, json.Unmarshal(raw[label], &v), label)
		r[label] = v
	}
	for label, keys := range map[string][]string{
		"answerable":   {"n", "recall@1", "recall@5", "mrr", "answered_rate", "handoff_rate"},
		"out_of_scope": {"n", "refused_rate", "handoff_rate"},
		"handoff":      {"n", "offered_rate"},
	} {
		for _, k := range keys {
			assert.Contains(t, r[label], k, label)
		}
	}
	assert.EqualValues(t, len(m.FAQPairs), r["answerable"]["n"])
	assert.EqualValues(t, 1, r["out_of_scope"]["n"], "--site keeps one site's questions")
	assert.Greater(t, r["answerable"]["recall@5"], 0.8, "questions taken from the pages find them")
	assert.EqualValues(t, 1, r["out_of_scope"]["refused_rate"])
	assert.EqualValues(t, 1, r["handoff"]["offered_rate"])

	out, _, err = sitebot(t, nil, "eval", file, "--data", data, "--model", "")
	require.NoError(t, err)
	assert.Contains(t, out, "answerable")
	assert.Contains(t, out, "recall@5")

	_, _, err = sitebot(t, nil, "eval", filepath.Join(t.TempDir(), "none.jsonl"), "--data", data)
	require.ErrorContains(t, err, "open question set")
}
