package crawler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"
)

// response is an answer after the crawler followed redirects.
type response struct {
	*http.Response            // nil when a redirect was refused (see reason)
	url            *url.URL   // the URL that answered, normalised
	hops           []*url.URL // the URLs that redirected to it
	reason         string     // why a redirect was not followed
	cancel         context.CancelFunc
}

func (r *response) close() {
	if r.Response != nil {
		r.Body.Close()
	}
	r.cancel()
}

// redirectCheck vets a redirect target: it returns the URL to fetch
// (possibly moved onto the site's origin) or why not to follow it.
type redirectCheck func(*url.URL) (*url.URL, string)

// get requests u, following at most maxRedirects redirects that check
// accepts. The request, body included, must finish within RequestTimeout;
// the caller closes the response. err is set only when no answer came.
func (c *Crawler) get(ctx context.Context, u *url.URL, accept string, check redirectCheck) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	resp := &response{url: u, cancel: cancel}
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, resp.url.String(), nil)
		if err != nil {
			cancel()
			return nil, err
		}
		req.Header.Set("User-Agent", c.opts.UserAgent)
		req.Header.Set("Accept", accept)
		began := time.Now()
		hr, err := c.client.Do(req)
		if err != nil {
			cancel()
			return nil, err
		}
		c.log.Debug("fetch", "url", resp.url.String(), "status", hr.StatusCode, "took", time.Since(began))
		loc := hr.Header.Get("Location")
		switch hr.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			resp.Response = hr
			return resp, nil
		}
		if loc == "" {
			resp.Response = hr
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 32<<10))
		hr.Body.Close()
		if hop == maxRedirects {
			resp.reason = fmt.Sprintf("more than %d redirects", maxRedirects)
			return resp, nil
		}
		next, ok := resolve(resp.url, loc)
		if !ok {
			resp.reason = fmt.Sprintf("redirects to %q, not an http(s) URL", loc)
			return resp, nil
		}
		if check != nil {
			var reason string
			if next, reason = check(next); reason != "" {
				resp.reason = reason
				return resp, nil
			}
		}
		resp.hops = append(resp.hops, resp.url)
		resp.url = next
	}
}

// robotsError says robots.txt could not be read for a reason that forbids
// crawling (RFC 9309 §2.3.1.4: a server error means "disallow all").
type robotsError struct {
	url    string
	status int
}

func (e *robotsError) Error() string {
	return fmt.Sprintf("robots.txt at %s answered HTTP %d, so nothing may be crawled", e.url, e.status)
}

// loadRobots fetches and parses robots.txt for u's origin. A 4xx means no
// rules; a 5xx is a *robotsError; no answer at all is returned as is.
func (c *Crawler) loadRobots(ctx context.Context, u *url.URL) (*robots, error) {
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	check := func(next *url.URL) (*url.URL, string) {
		if !wwwVariant(ru.Hostname(), next.Hostname()) {
			return nil, "robots.txt redirects to another site"
		}
		return next, ""
	}
	resp, err := c.get(ctx, ru, "text/plain,*/*;q=0.5", check)
	if err != nil {
		return nil, err
	}
	defer resp.close()
	switch {
	case resp.Response == nil:
		c.log.Info("robots.txt not followed, crawling without rules", "url", ru.String(), "reason", resp.reason)
		return allowAll, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
		if err != nil && len(body) == 0 {
			return nil, err
		}
		return parseRobots(string(body)), nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		c.log.Debug("no robots.txt", "url", ru.String(), "status", resp.StatusCode)
		return allowAll, nil
	}
	return nil, &robotsError{url: ru.String(), status: resp.StatusCode}
}

// fetch fetches one job and extracts what it holds. It runs on worker
// goroutines and only reads s.
func (c *Crawler) fetch(ctx context.Context, s *site, j job, check redirectCheck) result {
	res := result{job: j}
	if check == nil {
		check = func(u *url.URL) (*url.URL, string) {
			v, ok := s.onSite(u)
			if !ok {
				return nil, "redirects to another site (" + u.String() + ")"
			}
			if !s.robots.Allowed(c.agent, v.String()) {
				return nil, "redirects to " + v.String() + ", disallowed by robots.txt"
			}
			return v, ""
		}
	}
	accept := "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
	if j.sitemap {
		accept = "application/xml,text/xml;q=0.9,*/*;q=0.5"
	}
	resp, err := c.get(ctx, j.url, accept, check)
	if err != nil {
		return c.failed(ctx, res, err)
	}
	defer resp.close()
	res.hops = resp.hops
	if resp.Response == nil {
		res.skip = resp.reason
		return res
	}
	res.final, res.status = resp.url, resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		if !j.sitemap || j.named || resp.StatusCode != http.StatusNotFound {
			res.skip = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return res
	}
	if j.sitemap {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxSitemapBytes))
		if err != nil {
			return c.failed(ctx, res, err)
		}
		if res.locs, res.children, err = parseSitemap(body); err != nil {
			res.skip = err.Error()
		}
		return res
	}

	// The content type decides before any of the body is read.
	body := io.Reader(resp.Body)
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		br := bufio.NewReaderSize(resp.Body, 512)
		head, _ := br.Peek(512)
		ct, body = http.DetectContentType(head), br
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt != "text/html" && mt != "application/xhtml+xml" {
		if mt == "" {
			mt = ct
		}
		res.skip = "not HTML (" + mt + ")"
		return res
	}
	max := c.opts.MaxBodyBytes
	if resp.ContentLength > max {
		res.skip = fmt.Sprintf("body larger than %d bytes", max)
		return res
	}
	raw, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return c.failed(ctx, res, err)
	}
	if int64(len(raw)) > max {
		res.skip = fmt.Sprintf("body larger than %d bytes", max)
		return res
	}
	var in io.Reader = bytes.NewReader(raw)
	if r, err := charset.NewReader(in, ct); err == nil {
		in = r
	} else {
		in = bytes.NewReader(raw)
	}
	doc, err := goquery.NewDocumentFromReader(in)
	if err != nil {
		res.skip = "unparsable HTML: " + err.Error()
		return res
	}
	ex := extract(doc, resp.url, resp.Header, c.agent)
	if !ex.nofollow {
		res.links = ex.links
	}
	switch {
	case ex.noindex:
		res.skip = "noindex (robots meta tag or X-Robots-Tag)"
		return res
	case len(ex.page.Sections) == 0 && len(ex.page.FAQs) == 0:
		res.skip = "no text content"
		return res
	}
	page := ex.page
	page.URL = resp.url.String()
	if ex.canonical != nil {
		if v, ok := s.onSite(ex.canonical); ok {
			page.URL = v.String()
		}
	}
	res.page = &page
	return res
}

// failed turns a transport error into a result: canceled when the crawl is
// ending, else a skip that says what went wrong.
func (c *Crawler) failed(ctx context.Context, res result, err error) result {
	if ctx.Err() != nil {
		res.canceled = true
		return res
	}
	res.netErr = err
	if isTimeout(err) {
		res.skip = fmt.Sprintf("timed out after %s", c.opts.RequestTimeout)
	} else {
		res.skip = "fetch failed: " + err.Error()
	}
	return res
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
