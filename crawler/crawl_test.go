package crawler

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// htmlPage returns a small page with a heading, some text and links.
func htmlPage(title string, links ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html><html lang=en><head><title>%s</title></head><body><main><h1>%s</h1><p>Text of %s.</p>", title, title, title)
	for _, l := range links {
		fmt.Fprintf(&b, `<a href="%s">%s</a> `, l, l)
	}
	b.WriteString("</main></body></html>")
	return b.String()
}

// testSite serves routes (path -> handler); unknown paths are 404, and
// /robots.txt is 404 unless a route says otherwise.
func testSite(t *testing.T, routes map[string]http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func serveHTML(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
}

func skipReasons(rep Report) map[string]string {
	m := map[string]string{}
	for _, s := range rep.Skipped {
		m[s.URL] = s.Reason
	}
	return m
}

func TestCrawlStartURLErrors(t *testing.T) {
	for _, start := range []string{"", "example.com", "/docs", "ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)"} {
		t.Run(start, func(t *testing.T) {
			_, err := New(Options{}).Crawl(context.Background(), start, func(context.Context, Page) error { return nil })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "http")
			assert.NotErrorIs(t, err, ErrUnreachable)
		})
	}
}

func TestCrawlUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	start := "http://" + addr + "/"
	_, err = New(Options{RequestTimeout: 2 * time.Second}).Crawl(context.Background(), start, func(context.Context, Page) error { return nil })
	require.ErrorIs(t, err, ErrUnreachable)
	assert.Contains(t, err.Error(), addr)
	assert.Contains(t, err.Error(), "connection refused")
}

func TestCrawlNoPages(t *testing.T) {
	tests := []struct {
		name   string
		routes map[string]http.HandlerFunc
		reason string
	}{
		{name: "home is 404", routes: map[string]http.HandlerFunc{}, reason: "HTTP 404"},
		{name: "home is empty", routes: map[string]http.HandlerFunc{"/": serveHTML("<html><body><main></main></body></html>")}, reason: "no text"},
		{name: "home is noindex", routes: map[string]http.HandlerFunc{
			"/":  serveHTML(`<html><head><meta name="robots" content="noindex,nofollow"></head><body><p>Hi</p><a href="/a">a</a></body></html>`),
			"/a": serveHTML(htmlPage("A")),
		}, reason: "noindex"},
		{name: "home is disallowed", routes: map[string]http.HandlerFunc{
			"/robots.txt": func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "User-agent: sitebot\nDisallow: /\n") },
			"/":           serveHTML(htmlPage("Home")),
		}, reason: "robots.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testSite(t, tt.routes)
			pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
			require.ErrorIs(t, err, ErrNoPages)
			assert.Empty(t, pages)
			assert.Contains(t, skipReasons(rep)[srv.URL+"/"], tt.reason)
		})
	}
}

func TestCrawlRobotsServerError(t *testing.T) {
	var pageHits atomic.Int32
	srv := testSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) },
		"/":           func(w http.ResponseWriter, r *http.Request) { pageHits.Add(1); serveHTML(htmlPage("Home"))(w, r) },
		"/sitemap.xml": func(w http.ResponseWriter, r *http.Request) {
			pageHits.Add(1)
			http.NotFound(w, r)
		},
	})
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.ErrorIs(t, err, ErrNoPages)
	assert.Contains(t, err.Error(), "503")
	assert.Empty(t, pages)
	assert.Zero(t, pageHits.Load(), "nothing is fetched when robots.txt answers 5xx")
	assert.Contains(t, skipReasons(rep)[srv.URL+"/robots.txt"], "503")
}

func TestCrawlRobotsRules(t *testing.T) {
	var secretHits atomic.Int32
	srv := testSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /\n\nUser-agent: sitebot\nDisallow: /secret\nAllow: /secret/ok\n")
		},
		"/":          serveHTML(htmlPage("Home", "/secret/x", "/secret/ok", "/public")),
		"/secret/x":  func(w http.ResponseWriter, r *http.Request) { secretHits.Add(1); serveHTML(htmlPage("Secret"))(w, r) },
		"/secret/ok": serveHTML(htmlPage("Fine")),
		"/public":    serveHTML(htmlPage("Public")),
	})
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/secret/ok", srv.URL + "/public"}, mapsKeys(pages))
	assert.Zero(t, secretHits.Load())
	assert.Contains(t, skipReasons(rep)[srv.URL+"/secret/x"], "robots.txt")
}

func TestCrawlRedirects(t *testing.T) {
	var otherHits atomic.Int32
	other := testSite(t, map[string]http.HandlerFunc{
		"/": func(w http.ResponseWriter, r *http.Request) { otherHits.Add(1); serveHTML(htmlPage("Other"))(w, r) },
	})
	var srv *httptest.Server
	srv = testSite(t, map[string]http.HandlerFunc{
		"/":     serveHTML(htmlPage("Home", "/away", "/old", "/new", other.URL+"/", "/loop")),
		"/away": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other.URL+"/", http.StatusFound) },
		"/old":  func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) },
		"/new":  serveHTML(htmlPage("New")),
		"/loop": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop?again=1", http.StatusFound) },
	})
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/new"}, mapsKeys(pages))
	assert.Zero(t, otherHits.Load(), "nothing on another host is fetched")
	reasons := skipReasons(rep)
	assert.Contains(t, reasons[srv.URL+"/away"], "another site")
	assert.NotContains(t, reasons, other.URL+"/", "links to other sites are not skipped pages")
	assert.Equal(t, 1, rep.OffSite)
	assert.Contains(t, reasons[srv.URL+"/loop"], "redirects")
}

// TestCrawlStartRedirectToWWW serves two host names from one server: the
// start URL's host redirects to its www. twin, which becomes the site.
func TestCrawlStartRedirectToWWW(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "example.test" {
			http.Redirect(w, r, "http://www.example.test"+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		switch r.URL.Path {
		case "/":
			serveHTML(htmlPage("Home", "/a", "http://example.test/b", "http://elsewhere.test/c"))(w, r)
		case "/a", "/b":
			serveHTML(htmlPage("Page "+r.URL.Path))(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dialer := &net.Dialer{}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}}
	pages, rep, err := crawlCollect(t, Options{Client: client}, "http://example.test/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"http://www.example.test/", "http://www.example.test/a", "http://www.example.test/b"}, mapsKeys(pages))
	assert.Equal(t, []string{"www.example.test", "example.test"}, rep.Hosts)
	assert.Equal(t, 1, rep.OffSite, "http://elsewhere.test/c")
}

func TestCrawlNonHTMLNotRead(t *testing.T) {
	released := make(chan struct{})
	srv := testSite(t, map[string]http.HandlerFunc{
		"/": serveHTML(htmlPage("Home", "/big.bin", "/report.pdf")),
		"/big.bin": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(bytes.Repeat([]byte("x"), 4096))
			w.(http.Flusher).Flush()
			// The rest never comes: a crawler that reads on waits until its timeout.
			select {
			case <-r.Context().Done():
				close(released)
			case <-time.After(10 * time.Second):
			}
		},
		"/report.pdf": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Write([]byte("%PDF-1.4"))
		},
	})
	began := time.Now()
	_, rep, err := crawlCollect(t, Options{RequestTimeout: 8 * time.Second}, srv.URL+"/")
	require.NoError(t, err)
	assert.Less(t, time.Since(began), 3*time.Second, "the body was not read")
	reasons := skipReasons(rep)
	assert.Equal(t, "not HTML (application/octet-stream)", reasons[srv.URL+"/big.bin"])
	assert.Equal(t, "not HTML (application/pdf)", reasons[srv.URL+"/report.pdf"])
	select {
	case <-released:
	case <-time.After(3 * time.Second):
		t.Error("the connection of the skipped download stayed open")
	}
}

func TestCrawlMaxBodyBytes(t *testing.T) {
	big := htmlPage("Big") + strings.Repeat("<p>filler</p>", 1000)
	srv := testSite(t, map[string]http.HandlerFunc{
		"/":    serveHTML(htmlPage("Home", "/big", "/chunked")),
		"/big": serveHTML(big),
		"/chunked": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			for range 10 {
				w.Write([]byte(strings.Repeat("<p>filler</p>", 100)))
				w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
			}
		},
	})
	pages, rep, err := crawlCollect(t, Options{MaxBodyBytes: 4096}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/"}, mapsKeys(pages))
	reasons := skipReasons(rep)
	assert.Contains(t, reasons[srv.URL+"/big"], "larger than 4096")
	assert.Contains(t, reasons[srv.URL+"/chunked"], "larger than 4096")
}

func TestCrawlMaxPages(t *testing.T) {
	routes := map[string]http.HandlerFunc{}
	for i := range 20 {
		routes[fmt.Sprintf("/p%d", i)] = serveHTML(htmlPage(fmt.Sprintf("Page %d", i), fmt.Sprintf("/p%d", i+1)))
	}
	routes["/"] = serveHTML(htmlPage("Home", "/p0"))
	srv := testSite(t, routes)
	pages, rep, err := crawlCollect(t, Options{MaxPages: 5, Concurrency: 2}, srv.URL+"/")
	require.NoError(t, err)
	assert.Len(t, pages, 5)
	assert.Equal(t, 5, rep.Pages)
	assert.True(t, rep.Truncated)

	// A site with exactly MaxPages pages is not truncated.
	pages, rep, err = crawlCollect(t, Options{MaxPages: 22}, srv.URL+"/")
	require.NoError(t, err)
	assert.Len(t, pages, 21)
	assert.False(t, rep.Truncated)
}

func TestCrawlTimeout(t *testing.T) {
	srv := testSite(t, map[string]http.HandlerFunc{
		"/":       serveHTML(htmlPage("Home", "/slow", "/broken")),
		"/broken": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) },
		"/slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		},
	})
	began := time.Now()
	pages, rep, err := crawlCollect(t, Options{RequestTimeout: 300 * time.Millisecond, Retries: -1}, srv.URL+"/")
	require.NoError(t, err)
	assert.Less(t, time.Since(began), 3*time.Second)
	assert.Len(t, pages, 1)
	assert.Contains(t, skipReasons(rep)[srv.URL+"/slow"], "timed out")
	assert.Contains(t, skipReasons(rep)[srv.URL+"/broken"], "HTTP 500")
	assert.Equal(t, map[string]bool{srv.URL + "/slow": true, srv.URL + "/broken": true}, rep.Failed,
		"timeouts and server errors may pass: the pages may still exist")
}

func TestCrawlCancel(t *testing.T) {
	srv := endlessSite(t, 20*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var visits atomic.Int32
	done := make(chan error, 1)
	go func() {
		_, err := New(Options{}).Crawl(ctx, srv.URL+"/", func(context.Context, Page) error {
			visits.Add(1)
			return nil
		})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	canceled := time.Now()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(canceled), time.Second)
		assert.Positive(t, visits.Load())
	case <-time.After(3 * time.Second):
		t.Fatal("Crawl did not return after its context was canceled")
	}
}

func TestCrawlVisitError(t *testing.T) {
	srv := testSite(t, map[string]http.HandlerFunc{
		"/":  serveHTML(htmlPage("Home", "/a", "/b")),
		"/a": serveHTML(htmlPage("A")),
		"/b": serveHTML(htmlPage("B")),
	})
	boom := errors.New("disk full")
	calls := 0
	_, err := New(Options{}).Crawl(context.Background(), srv.URL+"/", func(context.Context, Page) error {
		calls++
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), srv.URL+"/")
	assert.Equal(t, 1, calls)
}

func TestCrawlDeduplicates(t *testing.T) {
	same := htmlPage("Same")
	srv := testSite(t, map[string]http.HandlerFunc{
		"/":       serveHTML(htmlPage("Home", "/a", "/a-copy", "/b?utm_source=mail", "/b#part", "/c?x=1", "/nf")),
		"/a":      serveHTML(same),
		"/a-copy": serveHTML(same),
		"/b":      serveHTML(htmlPage("B")),
		"/c": serveHTML(`<html><head><title>C</title><link rel="canonical" href="/c-canonical"></head>` +
			`<body><main><h1>C</h1><p>The C page.</p></main></body></html>`),
		"/nf": serveHTML(`<html><head><meta name="robots" content="nofollow"></head>` +
			`<body><main><p>No follow.</p><a href="/hidden">h</a></main></body></html>`),
		"/hidden": serveHTML(htmlPage("Hidden")),
	})
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	urls := mapsKeys(pages)
	assert.Contains(t, urls, srv.URL+"/b")
	assert.Contains(t, urls, srv.URL+"/c-canonical", "canonical URL names the page")
	assert.NotContains(t, urls, srv.URL+"/hidden", "links of a nofollow page are not followed")
	n := 0
	for _, u := range urls {
		if strings.HasPrefix(u, srv.URL+"/a") {
			n++
		}
	}
	assert.Equal(t, 1, n, "the same text at two URLs is one page")
	assert.Len(t, pages, 5) // /, /a or /a-copy, /b, /c-canonical, /nf
	found := false
	for _, s := range rep.Skipped {
		if strings.HasPrefix(s.Reason, "same content as") {
			found = true
		}
	}
	assert.True(t, found, "the duplicate is reported: %v", rep.Skipped)
}

func TestCrawlNofollowLinks(t *testing.T) {
	srv := testSite(t, map[string]http.HandlerFunc{
		"/": serveHTML(`<html><body><main><p>Home</p><a rel="nofollow" href="/only">o</a>` +
			`<a rel="nofollow" href="/both">b</a><a href="/both">b</a><a href="/noindex">n</a></main></body></html>`),
		"/only": serveHTML(htmlPage("Only")),
		"/both": serveHTML(htmlPage("Both")),
		"/noindex": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Robots-Tag", "noindex")
			serveHTML(htmlPage("Not indexed", "/via-noindex"))(w, r)
		},
		"/via-noindex": serveHTML(htmlPage("Via noindex")),
	})
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/both", srv.URL + "/via-noindex"}, mapsKeys(pages),
		"a noindex page is not indexed, but its links are followed")
	reasons := skipReasons(rep)
	assert.Contains(t, reasons[srv.URL+"/only"], "nofollow")
	assert.Contains(t, reasons[srv.URL+"/noindex"], "noindex")
}

func TestCrawlSitemaps(t *testing.T) {
	var srv *httptest.Server
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	srv = testSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "User-agent: *\nAllow: /\nSitemap: %s/index.xml\nSitemap: https://cdn.example.com/sitemap.xml\n", srv.URL)
		},
		"/": serveHTML(htmlPage("Home")),
		"/sitemap.xml": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `<urlset><url><loc>%s/from-default</loc></url><url><loc>https://other.example.com/x</loc></url></urlset>`, srv.URL)
		},
		"/index.xml": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `<sitemapindex><sitemap><loc>%s/pages.xml.gz</loc></sitemap></sitemapindex>`, srv.URL)
		},
		"/pages.xml.gz": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/gzip")
			w.Write(gz(fmt.Sprintf(`<urlset><url><loc>%s/from-gz</loc></url></urlset>`, srv.URL)))
		},
		"/from-default": serveHTML(htmlPage("From default")),
		"/from-gz":      serveHTML(htmlPage("From gz")),
	})
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv.URL + "/", srv.URL + "/from-default", srv.URL + "/from-gz"}, mapsKeys(pages))
	reasons := skipReasons(rep)
	assert.Contains(t, reasons["https://cdn.example.com/sitemap.xml"], "another site")
	assert.Contains(t, reasons["https://other.example.com/x"], "another site")
}

func TestCrawlCharset(t *testing.T) {
	srv := testSite(t, map[string]http.HandlerFunc{
		"/": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
			w.Write([]byte("<html><body><main><h1>Gr\xfc\xdfe</h1><p>K\xe4se</p></main></body></html>"))
		},
	})
	pages, _, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	p := pages[srv.URL+"/"]
	assert.Equal(t, "Grüße", p.Title)
	require.Len(t, p.Sections, 1)
	assert.Equal(t, "Käse", p.Sections[0].Text)
}

func TestCrawlContentLanguageHeader(t *testing.T) {
	srv := testSite(t, map[string]http.HandlerFunc{
		"/": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Language", "fr-CA, en")
			fmt.Fprint(w, "<html><body><main><p>Bonjour</p></main></body></html>")
		},
	})
	pages, _, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.Equal(t, "fr", pages[srv.URL+"/"].Lang)
}

// endlessSite serves pages that each link five new pages, every answer
// taking delay: a site no crawl finishes.
func endlessSite(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
		var links []string
		for i := range 5 {
			links = append(links, fmt.Sprintf("%s/%d", strings.TrimSuffix(r.URL.Path, "/"), i))
		}
		serveHTML(htmlPage("Page "+r.URL.Path, links...))(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}
