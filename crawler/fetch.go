package crawler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	note           string     // why a 429/5xx was not retried, when that needs saying
	known          *Known     // what Options.Known said of url, when the request was conditional
	cancel         context.CancelFunc
	release        func() // frees the host's connection slot
}

func (r *response) close() {
	if r.Response != nil {
		r.Body.Close()
	}
	r.cancel()
	r.release()
}

// redirectCheck vets a redirect target: it returns the URL to fetch
// (possibly moved onto the site's origin) or why not to follow it.
type redirectCheck func(*url.URL) (*url.URL, string)

const (
	retryBase     = 500 * time.Millisecond
	maxRetryWait  = 30 * time.Second
	maxCrawlDelay = 10 * time.Second
)

// get requests u, following at most maxRedirects redirects that check
// accepts and retrying 429, 5xx, resets and timeouts. Each request, its body
// included, must finish within RequestTimeout; the caller closes the
// response. With conditional set, Options.Known makes the requests
// conditional. err is set only when no answer came.
func (c *Crawler) get(ctx context.Context, u *url.URL, accept string, check redirectCheck, conditional bool) (*response, error) {
	cur := u
	var hops []*url.URL
	for hop := 0; ; hop++ {
		resp, err := c.request(ctx, cur, accept, conditional)
		if err != nil {
			return nil, err
		}
		resp.hops = hops
		hr := resp.Response
		loc := hr.Header.Get("Location")
		switch hr.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return resp, nil
		}
		if loc == "" {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 32<<10))
		resp.close()
		resp.Response = nil
		if hop == maxRedirects {
			resp.reason = fmt.Sprintf("more than %d redirects", maxRedirects)
			return resp, nil
		}
		next, ok := resolve(cur, loc)
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
		hops = append(hops, cur)
		cur = next
	}
}

// request makes one request to u (no redirects followed), retrying it up to
// Retries times. The response's body stays open: its context, connection
// slot and timeout end with close.
func (c *Crawler) request(ctx context.Context, u *url.URL, accept string, conditional bool) (*response, error) {
	var known *Known
	if conditional && c.opts.Known != nil {
		if k, ok := c.opts.Known(ctx, u.String()); ok && (k.ETag != "" || k.LastModified != "") {
			known = &k
		}
	}
	for attempt := 0; ; attempt++ {
		release, err := c.waitTurn(ctx, u)
		if err != nil {
			return nil, err
		}
		actx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
		req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
		if err != nil {
			cancel()
			release()
			return nil, err
		}
		req.Header.Set("User-Agent", c.opts.UserAgent)
		req.Header.Set("Accept", accept)
		if known != nil {
			if known.ETag != "" {
				req.Header.Set("If-None-Match", known.ETag)
			}
			if known.LastModified != "" {
				req.Header.Set("If-Modified-Since", known.LastModified)
			}
		}
		began := time.Now()
		hr, err := c.client.Do(req)
		if err != nil {
			cancel()
			release()
			if ctx.Err() != nil || attempt >= c.retries || !retryableError(err) {
				return nil, err
			}
			wait := backoff(attempt)
			if !fitsDeadline(ctx, wait) {
				return nil, err
			}
			c.log.Debug("retrying", "url", u.String(), "err", err, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		c.log.Debug("fetch", "url", u.String(), "status", hr.StatusCode, "took", time.Since(began))
		resp := &response{Response: hr, url: u, cancel: cancel, release: release, known: known}
		if !retryableStatus(hr.StatusCode) || attempt >= c.retries {
			return resp, nil
		}
		wait, fromHeader := retryAfter(hr.Header.Get("Retry-After"), time.Now())
		switch {
		case fromHeader && wait > maxRetryWait:
			resp.note = fmt.Sprintf("Retry-After %s is longer than the %s the crawler waits", wait.Round(time.Second), maxRetryWait)
			return resp, nil
		case fromHeader && !fitsDeadline(ctx, wait):
			resp.note = fmt.Sprintf("Retry-After %s goes past the crawl's deadline", wait.Round(time.Second))
			return resp, nil
		case !fromHeader:
			wait = backoff(attempt)
			if !fitsDeadline(ctx, wait) {
				return resp, nil
			}
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 32<<10))
		resp.close()
		c.log.Debug("retrying", "url", u.String(), "status", hr.StatusCode, "wait", wait)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500 && code <= 599
}

// retryableError reports whether a request that got no answer may succeed
// when tried again: timeouts and connections the server dropped.
func retryableError(err error) bool {
	if errors.Is(err, ErrBlockedAddress) {
		return false
	}
	return isTimeout(err) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// backoff is the wait before retry number attempt+1: 500ms doubling, plus
// up to half again as jitter, at most maxRetryWait.
func backoff(attempt int) time.Duration {
	d := retryBase << min(attempt, 10)
	d += rand.N(d/2 + 1)
	return min(d, maxRetryWait)
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// ok is false when there is none or it cannot be read.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 1<<32)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// fitsDeadline reports whether waiting d still leaves ctx time to run.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Now().Add(d).Before(dl)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hostTurn is the politeness state of one host.
type hostTurn struct {
	slots chan struct{} // PerHostConcurrency requests at a time
	last  time.Time     // when the latest request started (or will)
}

// waitTurn waits until a request to u's host may start: a free slot of
// PerHostConcurrency, and the per-host delay (Options.Delay, raised by the
// robots.txt Crawl-delay) since the previous request started. release
// frees the slot.
func (c *Crawler) waitTurn(ctx context.Context, u *url.URL) (release func(), err error) {
	c.mu.Lock()
	h := c.hosts[u.Host]
	if h == nil {
		if len(c.hosts) > 10000 {
			c.pruneHosts()
		}
		h = &hostTurn{slots: make(chan struct{}, c.perHost)}
		c.hosts[u.Host] = h
	}
	c.mu.Unlock()
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	release = func() { once.Do(func() { <-h.slots }) }
	delay := c.opts.Delay
	if rb := c.cachedRobots(origin(u)); rb != nil {
		delay = max(delay, min(rb.crawlDelay(c.agent), maxCrawlDelay))
	}
	c.mu.Lock()
	now := time.Now()
	start := h.last.Add(delay)
	if start.Before(now) {
		start = now
	}
	h.last = start
	c.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			release()
			return nil, err
		}
	}
	return release, nil
}

// pruneHosts forgets idle hosts whose delay has surely passed; c.mu is held.
func (c *Crawler) pruneHosts() {
	now := time.Now()
	for k, h := range c.hosts {
		if len(h.slots) == 0 && h.last.Add(max(c.opts.Delay, maxCrawlDelay)).Before(now) {
			delete(c.hosts, k)
		}
	}
}

// robotsError says robots.txt could not be read for a reason that forbids
// crawling (RFC 9309 §2.3.1.4: a server error means "disallow all").
type robotsError struct {
	url    string
	status int
	note   string
}

func (e *robotsError) Error() string {
	msg := fmt.Sprintf("robots.txt at %s answered HTTP %d, so nothing may be crawled", e.url, e.status)
	if e.note != "" {
		msg += " (" + e.note + ")"
	}
	return msg
}

// robotsTTL bounds how long a fetched robots.txt is trusted (RFC 9309
// §2.4: no longer than 24 hours).
const robotsTTL = 24 * time.Hour

// robotsEntry is a robots.txt in the Crawler's cache, or being fetched.
type robotsEntry struct {
	done    chan struct{} // closed when rb/err are set
	rb      *robots
	err     error
	fetched time.Time
}

// cachedRobots returns the fresh robots.txt of origin o when the cache
// holds one, nil otherwise. It never fetches.
func (c *Crawler) cachedRobots(o string) *robots {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.robots[o]
	if e == nil {
		return nil
	}
	select {
	case <-e.done:
	default:
		return nil
	}
	if e.err != nil || time.Since(e.fetched) > robotsTTL {
		return nil
	}
	return e.rb
}

// robotsFor returns the robots.txt of u's origin, from the cache when it
// was fetched less than robotsTTL ago. Concurrent callers share one fetch;
// failures are not cached.
func (c *Crawler) robotsFor(ctx context.Context, u *url.URL) (*robots, error) {
	o := origin(u)
	for {
		c.mu.Lock()
		e := c.robots[o]
		fresh := false
		if e != nil {
			select {
			case <-e.done:
				fresh = e.err == nil && time.Since(e.fetched) <= robotsTTL
			default:
				fresh = true // being fetched
			}
		}
		if !fresh {
			e = &robotsEntry{done: make(chan struct{})}
			c.robots[o] = e
			c.mu.Unlock()
			e.rb, e.err = c.loadRobots(ctx, u)
			e.fetched = time.Now()
			close(e.done)
			return e.rb, e.err
		}
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil && ctx.Err() == nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
			continue // the fetch belonged to a crawl that ended: try again
		}
		return e.rb, e.err
	}
}

// loadRobots fetches and parses robots.txt for u's origin, following
// redirects anywhere (RFC 9309 §2.3.1.2). A 4xx but 429 means no rules; a
// 5xx or 429 is a *robotsError; no answer at all is returned as is. At most
// maxRobotsBytes are read and parsed.
func (c *Crawler) loadRobots(ctx context.Context, u *url.URL) (*robots, error) {
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	resp, err := c.get(ctx, ru, "text/plain,*/*;q=0.5", nil, false)
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
		rb := parseRobots(string(body))
		if d := rb.crawlDelay(c.agent); d > maxCrawlDelay {
			c.log.Info("robots.txt Crawl-delay capped", "url", ru.String(), "crawl_delay", d, "used", maxCrawlDelay)
		}
		return rb, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		c.log.Debug("no robots.txt", "url", ru.String(), "status", resp.StatusCode)
		return allowAll, nil
	}
	return nil, &robotsError{url: ru.String(), status: resp.StatusCode, note: resp.note}
}

// robotsCheck says why u may not be fetched under its origin's robots.txt,
// or "" when it may.
func (c *Crawler) robotsCheck(ctx context.Context, u *url.URL) string {
	rb, err := c.robotsFor(ctx, u)
	switch {
	case errors.Is(err, ErrBlockedAddress):
		return "blocked by the address policy: " + blockedDetail(err)
	case err != nil:
		return "robots.txt of " + origin(u) + ": " + err.Error()
	}
	if !rb.Allowed(c.agent, u.String()) {
		return "disallowed by robots.txt"
	}
	return ""
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
			if why := c.robotsCheck(ctx, v); why != "" {
				return nil, "redirects to " + v.String() + ", " + why
			}
			return v, ""
		}
	}
	// The coordinator checks robots.txt when it has it; an origin met for
	// the first time (an allowed host) is checked here.
	if why := c.robotsCheck(ctx, j.url); why != "" && !j.sitemap {
		if ctx.Err() != nil {
			res.canceled = true
			return res
		}
		res.skip, res.noRequest = why, true
		return res
	}
	accept := "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
	if j.sitemap {
		accept = "application/xml,text/xml;q=0.9,*/*;q=0.5"
	}
	resp, err := c.get(ctx, j.url, accept, check, !j.sitemap)
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
	if resp.StatusCode == http.StatusNotModified && resp.known != nil {
		res.notModified = true
		for _, raw := range resp.known.Links {
			if u, err := url.Parse(raw); err == nil && normalize(u) == nil {
				res.links = append(res.links, link{url: u})
			}
		}
		return res
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		if !j.sitemap || j.named || resp.StatusCode != http.StatusNotFound {
			res.skip = fmt.Sprintf("HTTP %d", resp.StatusCode)
			if resp.note != "" {
				res.skip += " (" + resp.note + ")"
			}
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
	var followed []string
	if !ex.nofollow {
		res.links = ex.links
		seen := map[string]bool{}
		for _, l := range ex.links {
			if v, ok := s.onSite(l.url); ok && !l.nofollow && !seen[v.String()] {
				seen[v.String()] = true
				followed = append(followed, v.String())
			}
		}
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
	page.ETag = resp.Header.Get("ETag")
	page.LastModified = resp.Header.Get("Last-Modified")
	page.Links = followed
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
	if errors.Is(err, ErrBlockedAddress) {
		res.skip = "blocked by the address policy: " + blockedDetail(err)
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

// blockedDetail returns the part of a dial error that says which address
// was blocked and why.
func blockedDetail(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ErrBlockedAddress.Error()); i >= 0 {
		return msg[i:]
	}
	return msg
}
