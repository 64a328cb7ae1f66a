package crawler

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hitCounter counts requests per path.
type hitCounter struct {
	mu    sync.Mutex
	hits  map[string]int
	times []time.Time
}

func (h *hitCounter) add(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hits == nil {
		h.hits = map[string]int{}
	}
	h.hits[path]++
	h.times = append(h.times, time.Now())
	return h.hits[path]
}

func (h *hitCounter) get(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

func TestCrawlRetries(t *testing.T) {
	var hc hitCounter
	srv := testSite(t, map[string]http.HandlerFunc{
		"/": serveHTML(htmlPage("Home", "/limited", "/flaky", "/down", "/later", "/reset")),
		"/limited": func(w http.ResponseWriter, r *http.Request) {
			if hc.add(r.URL.Path) == 1 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			serveHTML(htmlPage("Limited"))(w, r)
		},
		"/flaky": func(w http.ResponseWriter, r *http.Request) {
			if hc.add(r.URL.Path) <= 2 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			serveHTML(htmlPage("Flaky"))(w, r)
		},
		"/down": func(w http.ResponseWriter, r *http.Request) {
			hc.add(r.URL.Path)
			http.Error(w, "down", http.StatusBadGateway)
		},
		"/later": func(w http.ResponseWriter, r *http.Request) {
			hc.add(r.URL.Path)
			w.Header().Set("Retry-After", time.Now().Add(2*time.Minute).UTC().Format(http.TimeFormat))
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		},
		"/reset": func(w http.ResponseWriter, r *http.Request) {
			if hc.add(r.URL.Path) == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.(*net.TCPConn).SetLinger(0) // RST
					conn.Close()
				}
				return
			}
			serveHTML(htmlPage("Reset"))(w, r)
		},
	})
	began := time.Now()
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/limited", srv.URL + "/flaky", srv.URL + "/reset"}, mapsKeys(pages))
	assert.GreaterOrEqual(t, time.Since(began), time.Second, "Retry-After: 1 was honoured")
	assert.Equal(t, 2, hc.get("/limited"))
	assert.Equal(t, 3, hc.get("/flaky"))
	assert.Equal(t, 3, hc.get("/down"), "one try and two retries")
	assert.Equal(t, 1, hc.get("/later"), "a Retry-After beyond 30s is not waited for")
	assert.Equal(t, 2, hc.get("/reset"))
	reasons := skipReasons(rep)
	assert.Equal(t, "HTTP 502", reasons[srv.URL+"/down"])
	assert.Contains(t, reasons[srv.URL+"/later"], "HTTP 503 (Retry-After")
	assert.Contains(t, reasons[srv.URL+"/later"], "is longer than the 30s the crawler waits)")
	assert.Equal(t, map[string]bool{srv.URL + "/down": true, srv.URL + "/later": true}, rep.Failed)
}

func TestCrawlRetriesOptions(t *testing.T) {
	var hc hitCounter
	srv := testSite(t, map[string]http.HandlerFunc{
		"/": serveHTML(htmlPage("Home", "/down", "/soon")),
		"/down": func(w http.ResponseWriter, r *http.Request) {
			hc.add(r.URL.Path)
			http.Error(w, "down", http.StatusInternalServerError)
		},
		"/soon": func(w http.ResponseWriter, r *http.Request) {
			hc.add(r.URL.Path)
			w.Header().Set("Retry-After", "20")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		},
	})
	// No retries.
	_, rep, err := crawlCollect(t, Options{Retries: -1}, srv.URL+"/")
	require.NoError(t, err)
	assert.Equal(t, 1, hc.get("/down"))
	assert.True(t, rep.Failed[srv.URL+"/down"])

	// A Retry-After within the cap but beyond the crawl's deadline.
	_, rep, err = crawlCollect(t, Options{Timeout: 5 * time.Second}, srv.URL+"/")
	require.NoError(t, err)
	assert.Contains(t, skipReasons(rep)[srv.URL+"/soon"], "past the crawl's deadline")
	assert.True(t, rep.Failed[srv.URL+"/soon"], "a 429 page may well exist")
	assert.False(t, rep.Truncated)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for attempt := range 8 {
		d := backoff(attempt)
		assert.GreaterOrEqual(t, d, min(retryBase<<attempt, maxRetryWait))
		assert.LessOrEqual(t, d, maxRetryWait)
	}
}

// TestCrawlDelay measures the gaps between the requests a host receives.
func TestCrawlDelay(t *testing.T) {
	tests := []struct {
		name   string
		robots string
		opts   Options
	}{
		{"robots Crawl-delay", "User-agent: *\nCrawl-delay: 0.2\nDisallow: /nothing\n", Options{}},
		{"robots Crawl-delay for sitebot", "User-agent: other\nCrawl-delay: 0.01\n\nUser-agent: sitebot\nCrawl-delay: 0.2\n", Options{}},
		{"Options.Delay", "", Options{Delay: 200 * time.Millisecond, Concurrency: 8, PerHostConcurrency: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hc hitCounter
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hc.add(r.URL.Path)
				switch r.URL.Path {
				case "/robots.txt":
					if tt.robots == "" {
						http.NotFound(w, r)
						return
					}
					fmt.Fprint(w, tt.robots)
				case "/":
					serveHTML(htmlPage("Home", "/a", "/b", "/c"))(w, r)
				case "/a", "/b", "/c":
					serveHTML(htmlPage("Page "+r.URL.Path))(w, r)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			pages, _, err := crawlCollect(t, tt.opts, srv.URL+"/")
			require.NoError(t, err)
			assert.Len(t, pages, 4)
			hc.mu.Lock()
			defer hc.mu.Unlock()
			times := slices.Clone(hc.times)
			slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
			require.GreaterOrEqual(t, len(times), 6, "robots.txt, 4 pages, sitemap.xml")
			for i := 1; i < len(times); i++ {
				assert.GreaterOrEqual(t, times[i].Sub(times[i-1]), 190*time.Millisecond, "gap before request %d", i)
			}
		})
	}
}

func TestRobotsCrawlDelayParse(t *testing.T) {
	r := parseRobots("User-agent: *\nCrawl-delay: 1.5\nDisallow: /x\n\nUser-agent: slowbot\nCrawl-delay: 3600\nCrawl-delay: nope\n\nUser-agent: badbot\nCrawl-delay: -4\n")
	assert.Equal(t, 1500*time.Millisecond, r.crawlDelay("sitebot"))
	assert.Equal(t, time.Hour, r.crawlDelay("SlowBot"))
	assert.Zero(t, r.crawlDelay("badbot"))
	assert.False(t, r.Allowed("sitebot", "https://example.com/x"), "Crawl-delay does not end a group")
	assert.Zero(t, allowAll.crawlDelay("sitebot"))
}

func TestCrawlPerHostConcurrency(t *testing.T) {
	var active, peak atomic.Int32
	routes := map[string]http.HandlerFunc{}
	var links []string
	for i := range 12 {
		p := fmt.Sprintf("/p%d", i)
		links = append(links, p)
		routes[p] = func(w http.ResponseWriter, r *http.Request) {
			n := active.Add(1)
			defer active.Add(-1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(30 * time.Millisecond)
			serveHTML(htmlPage("Page "+p))(w, r)
		}
	}
	routes["/"] = serveHTML(htmlPage("Home", links...))
	srv := testSite(t, routes)
	pages, _, err := crawlCollect(t, Options{Concurrency: 8}, srv.URL+"/")
	require.NoError(t, err)
	assert.Len(t, pages, 13)
	assert.LessOrEqual(t, peak.Load(), int32(2), "default PerHostConcurrency")
	assert.Equal(t, 2, New(Options{}).perHost)
	assert.Equal(t, 1, New(Options{Concurrency: 1, PerHostConcurrency: 3}).perHost)
}

func TestCrawlMaxDepth(t *testing.T) {
	srv := testSite(t, map[string]http.HandlerFunc{
		"/":   serveHTML(htmlPage("Home", "/d1")),
		"/d1": serveHTML(htmlPage("D1", "/d2")),
		"/d2": serveHTML(htmlPage("D2", "/d3", "/d1")),
		"/d3": serveHTML(htmlPage("D3", "/d4")),
		"/d4": serveHTML(htmlPage("D4")),
		"/s":  serveHTML(htmlPage("From the sitemap", "/s2")),
		"/s2": serveHTML(htmlPage("Linked from the sitemap's page", "/s3")),
		"/s3": serveHTML(htmlPage("Too deep")),
		"/sitemap.xml": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<urlset><url><loc>http://%s/s</loc></url><url><loc>http://%s/d3</loc></url></urlset>`, r.Host, r.Host)
		},
	})
	pages, rep, err := crawlCollect(t, Options{MaxDepth: 2}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"/", "/d1", "/d2", "/d3", "/d4", "/s", "/s2"}, paths(pages),
		"/d3 is in the sitemap (depth 1), so /d4 is at depth 2")
	reasons := skipReasons(rep)
	assert.Contains(t, reasons[srv.URL+"/s3"], "MaxDepth")
	assert.NotContains(t, reasons, srv.URL+"/d3")

	pages, _, err = crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.Len(t, pages, 8, "0 is unlimited")
}

func paths(pages map[string]Page) []string {
	var ps []string
	for k := range pages {
		u, _ := url.Parse(k)
		ps = append(ps, u.Path)
	}
	return ps
}

func TestCrawlAllowedHosts(t *testing.T) {
	var docsHits hitCounter
	docs := testSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /secret\n") },
		"/guide": func(w http.ResponseWriter, r *http.Request) {
			docsHits.add(r.URL.Path)
			serveHTML(htmlPage("Guide", "/faq", "/secret"))(w, r)
		},
		"/faq": func(w http.ResponseWriter, r *http.Request) {
			docsHits.add(r.URL.Path)
			serveHTML(htmlPage("FAQ"))(w, r)
		},
		"/moved": func(w http.ResponseWriter, r *http.Request) {
			docsHits.add(r.URL.Path)
			serveHTML(htmlPage("Moved here"))(w, r)
		},
		"/secret": func(w http.ResponseWriter, r *http.Request) {
			docsHits.add(r.URL.Path)
			serveHTML(htmlPage("Secret"))(w, r)
		},
	})
	main := testSite(t, map[string]http.HandlerFunc{
		"/": serveHTML(htmlPage("Home", docs.URL+"/guide", "/old")),
		"/old": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, docs.URL+"/moved", http.StatusMovedPermanently)
		},
	})
	docsHost := strings.TrimPrefix(docs.URL, "http://")
	pages, rep, err := crawlCollect(t, Options{AllowedHosts: []string{" " + strings.ToUpper(docsHost)}}, main.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{main.URL + "/", docs.URL + "/guide", docs.URL + "/faq", docs.URL + "/moved"}, mapsKeys(pages))
	assert.Zero(t, docsHits.get("/secret"), "the allowed host's own robots.txt applies")
	assert.Equal(t, "disallowed by robots.txt", skipReasons(rep)[docs.URL+"/secret"])
	assert.Contains(t, rep.Hosts, docsHost)
	assert.Zero(t, rep.OffSite)
	assert.Equal(t, []string{docs.URL + "/faq", docs.URL + "/secret"}, pages[docs.URL+"/guide"].Links)

	// Without AllowedHosts the other server is another site.
	pages, rep, err = crawlCollect(t, Options{}, main.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{main.URL + "/"}, mapsKeys(pages))
	assert.Contains(t, skipReasons(rep)[main.URL+"/old"], "another site")
}

func TestCrawlTotalTimeout(t *testing.T) {
	srv := endlessSite(t, 30*time.Millisecond)
	began := time.Now()
	pages, rep, err := crawlCollect(t, Options{Timeout: 600 * time.Millisecond}, srv.URL+"/")
	require.NoError(t, err, "a timeout is a normal end")
	assert.Less(t, time.Since(began), 2*time.Second)
	assert.True(t, rep.Truncated)
	assert.Equal(t, "timeout", rep.StopReason)
	assert.NotEmpty(t, pages)
	assert.Equal(t, len(pages), rep.Pages)

	// MaxPages names its own reason.
	_, rep, err = crawlCollect(t, Options{MaxPages: 3}, srv.URL+"/")
	require.NoError(t, err)
	assert.True(t, rep.Truncated)
	assert.Equal(t, "max pages", rep.StopReason)
}

// etagSite serves pages whose ETag is their body's hash and honours
// If-None-Match and If-Modified-Since.
type etagSite struct {
	mu       sync.Mutex
	pages    map[string]string // path -> body
	lastMod  map[string]string // path -> Last-Modified instead of an ETag
	requests map[string][]string
	statuses map[string][]int
}

func (s *etagSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.pages[r.URL.Path]
	lm := s.lastMod[r.URL.Path]
	s.mu.Unlock()
	status := http.StatusOK
	defer func() {
		s.mu.Lock()
		s.requests[r.URL.Path] = append(s.requests[r.URL.Path], r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
		s.statuses[r.URL.Path] = append(s.statuses[r.URL.Path], status)
		s.mu.Unlock()
	}()
	if !ok {
		status = http.StatusNotFound
		http.NotFound(w, r)
		return
	}
	if lm != "" {
		w.Header().Set("Last-Modified", lm)
		if r.Header.Get("If-Modified-Since") == lm {
			status = http.StatusNotModified
			w.WriteHeader(status)
			return
		}
	} else {
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			status = http.StatusNotModified
			w.WriteHeader(status)
			return
		}
	}
	serveHTML(body)(w, r)
}

func TestCrawlConditional(t *testing.T) {
	site := &etagSite{
		pages: map[string]string{
			"/":     htmlPage("Home", "/a", "/gone", "/nofollow"),
			"/a":    htmlPage("A", "/b"),
			"/b":    htmlPage("B"),
			"/gone": htmlPage("Gone soon"),
		},
		lastMod:  map[string]string{"/b": "Mon, 02 Jan 2006 15:04:05 GMT"},
		requests: map[string][]string{},
		statuses: map[string][]int{},
	}
	site.pages["/"] = strings.Replace(site.pages["/"], `<a href="/nofollow">`, `<a rel="nofollow" href="/nofollow">`, 1)
	srv := httptest.NewServer(site)
	defer srv.Close()

	first, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	require.Len(t, first, 4)
	assert.Zero(t, rep.NotModified)
	home := first[srv.URL+"/"]
	assert.NotEmpty(t, home.ETag)
	assert.Empty(t, home.LastModified)
	assert.Equal(t, []string{srv.URL + "/a", srv.URL + "/gone"}, home.Links, "followable on-site links")
	assert.Equal(t, "Mon, 02 Jan 2006 15:04:05 GMT", first[srv.URL+"/b"].LastModified)
	assert.Empty(t, first[srv.URL+"/b"].ETag)

	var knownCalls atomic.Int32
	known := func(_ context.Context, u string) (Known, bool) {
		knownCalls.Add(1)
		p, ok := first[u]
		return Known{ETag: p.ETag, LastModified: p.LastModified, Links: p.Links}, ok
	}

	// Nothing changed: every page answers 304, nothing is visited.
	rep, err = New(Options{Known: known}).Crawl(context.Background(), srv.URL+"/", func(_ context.Context, p Page) error {
		t.Errorf("visit called for %s", p.URL)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 4, rep.NotModified)
	assert.Zero(t, rep.Pages)
	assert.ElementsMatch(t, mapsKeys(first), mapsKeys(rep.Seen))
	assert.False(t, rep.Truncated)
	assert.Positive(t, knownCalls.Load())
	site.mu.Lock()
	assert.Equal(t, []int{200, 304}, site.statuses["/a"])
	assert.Equal(t, "|Mon, 02 Jan 2006 15:04:05 GMT", site.requests["/b"][1], "If-Modified-Since sent")
	assert.NotEmpty(t, strings.TrimSuffix(site.requests["/a"][1], "|"), "If-None-Match sent")
	// /b changes, /gone disappears; /b is linked only from /a, which is 304.
	site.pages["/b"] = htmlPage("B, new")
	site.lastMod["/b"] = "Tue, 03 Jan 2006 15:04:05 GMT"
	delete(site.pages, "/gone")
	site.mu.Unlock()

	second, rep, err := crawlCollect(t, Options{Known: known}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/b"}, mapsKeys(second))
	assert.Equal(t, "B, new", second[srv.URL+"/b"].Title)
	assert.Equal(t, 2, rep.NotModified)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/a", srv.URL + "/b"}, mapsKeys(rep.Seen))
	assert.Equal(t, "HTTP 404", skipReasons(rep)[srv.URL+"/gone"])
	assert.Empty(t, rep.Failed)
}

func TestCrawlRobotsRedirectChain(t *testing.T) {
	var privateHits atomic.Int32
	other := testSite(t, map[string]http.HandlerFunc{
		"/rules.txt": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		},
	})
	routes := map[string]http.HandlerFunc{
		"/":        serveHTML(htmlPage("Home", "/private", "/public")),
		"/public":  serveHTML(htmlPage("Public")),
		"/private": func(w http.ResponseWriter, r *http.Request) { privateHits.Add(1); serveHTML(htmlPage("Private"))(w, r) },
	}
	// robots.txt -> /r1 -> /r2 -> /r3 -> /r4 -> other host: 5 redirects.
	chain := []string{"/robots.txt", "/r1", "/r2", "/r3", "/r4"}
	for i, p := range chain {
		next := other.URL + "/rules.txt"
		if i+1 < len(chain) {
			next = chain[i+1]
		}
		routes[p] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, next, http.StatusFound) }
	}
	srv := testSite(t, routes)
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/public"}, mapsKeys(pages))
	assert.Zero(t, privateHits.Load())
	assert.Equal(t, "disallowed by robots.txt", skipReasons(rep)[srv.URL+"/private"])
}

func TestCrawlRobotsLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("User-agent: *\nDisallow: /private\n")
	for b.Len() < 600<<10 {
		fmt.Fprintf(&b, "Disallow: /archive/%d/\n", b.Len())
	}
	b.WriteString("Disallow: /public\n") // beyond 512 KiB: not read
	var privateHits atomic.Int32
	srv := testSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, b.String()) },
		"/":           serveHTML(htmlPage("Home", "/private", "/public")),
		"/public":     serveHTML(htmlPage("Public")),
		"/private":    func(w http.ResponseWriter, r *http.Request) { privateHits.Add(1); serveHTML(htmlPage("Private"))(w, r) },
	})
	pages, _, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/public"}, mapsKeys(pages))
	assert.Zero(t, privateHits.Load())
}

func TestCrawlRobotsCache(t *testing.T) {
	var hc hitCounter
	srv := testSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, r *http.Request) {
			hc.add(r.URL.Path)
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		},
		"/": serveHTML(htmlPage("Home")),
	})
	c := New(Options{})
	crawl := func() {
		_, err := c.Crawl(context.Background(), srv.URL+"/", func(context.Context, Page) error { return nil })
		require.NoError(t, err)
	}
	crawl()
	crawl()
	assert.Equal(t, 1, hc.get("/robots.txt"), "a reused Crawler keeps robots.txt")

	// After 24 hours it is fetched again.
	c.mu.Lock()
	c.robots[srv.URL].fetched = time.Now().Add(-robotsTTL - time.Minute)
	c.mu.Unlock()
	crawl()
	assert.Equal(t, 2, hc.get("/robots.txt"))
}
