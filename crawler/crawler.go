package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a Crawler. The zero value is usable: every field has a
// default.
type Options struct {
	MaxPages       int           // indexable pages to visit (or find not modified) at most; default 500
	Concurrency    int           // parallel requests; default 4
	RequestTimeout time.Duration // per request (each redirect and retry is one), body included; default 15s
	MaxBodyBytes   int64         // larger pages are skipped; default 5 MiB
	UserAgent      string        // default "sitebot/0.1"; its product token selects robots.txt groups
	// Client nil: a client built by the crawler (which Policy and Resolver
	// need). Redirects are always handled by the crawler.
	Client   *http.Client
	Logger   *slog.Logger // nil: discard
	Progress func(Progress)

	// AllowedHosts are further host[:port] names that belong to the site
	// besides the start URL's host: links and redirects to them are
	// followed, each under its own robots.txt.
	AllowedHosts []string
	// MaxDepth bounds the links followed from the start URL (a page the
	// start page links to has depth 1, as do the URLs of sitemaps);
	// 0 means no bound.
	MaxDepth int
	// Delay is the least time between the starts of two requests to one
	// host; a robots.txt Crawl-delay (at most 10s) raises it. Default 0.
	Delay time.Duration
	// PerHostConcurrency bounds the requests in flight to one host;
	// default 2, never more than Concurrency.
	PerHostConcurrency int
	// Timeout bounds the whole crawl; when it passes, Crawl returns what it
	// has with Report.Truncated set and StopReason "timeout", and no error.
	// 0 means no bound (the context's deadline still applies).
	Timeout time.Duration
	// Retries is how often a request that got a 429, a 5xx, a reset or a
	// timeout is tried again, with exponential backoff (from 500ms, with
	// jitter) or after the answer's Retry-After, waiting at most 30s each
	// time. Default 2; negative means no retries.
	Retries int
	// Known returns what the index remembers of a page from the last crawl,
	// so that it is fetched with If-None-Match / If-Modified-Since. A page
	// that answers 304 Not Modified is not visited but counted in
	// Report.NotModified and Report.Seen, and its Known.Links are followed.
	Known func(ctx context.Context, url string) (Known, bool)
	// Policy, when set, restricts the addresses the crawler connects to
	// (see AddressPolicy); nil allows every address, as a crawl of an
	// intranet site needs. A Policy cannot be combined with Client.
	Policy *AddressPolicy
	// Resolver, when set, replaces DNS for the crawler's own client; it
	// cannot be combined with Client.
	Resolver Resolver
}

// Known is what an index remembers of a page from the last crawl.
type Known struct {
	ETag, LastModified string   // the validators the page was served with
	Links              []string // Page.Links of that crawl
}

// Progress is reported after each fetch.
type Progress struct {
	Fetched int // requests answered (pages, sitemaps and skips)
	Queued  int // URLs waiting to be fetched
	Pages   int // indexable pages visited
	Skipped int // URLs skipped so far
	Elapsed time.Duration
}

// Skip is a URL the crawl did not index, and why.
type Skip struct {
	URL    string
	Reason string
}

// Report sums up a crawl.
type Report struct {
	Pages   int    // indexable pages visited
	Fetched int    // requests answered
	Skipped []Skip // site URLs not indexed, with the reason, in the order met
	// OffSite counts the distinct links to other sites: not pages of this
	// site, so not skipped ones, but worth a line in a report.
	OffSite int
	// NotModified counts the pages that answered 304 Not Modified to a
	// conditional request: in Seen, not visited.
	NotModified int
	Truncated   bool   // stopped with URLs still waiting
	StopReason  string // why a Truncated crawl stopped: "max pages", "timeout", "max requests"
	Hosts       []string
	// Seen holds the normalised URL of every page visited or found not
	// modified. With a nil error
	// and Truncated false it is the whole site: an indexed page of Hosts that
	// is not in Seen has disappeared.
	Seen map[string]bool
	// Failed holds the URLs that got no answer or a 5xx (timeouts, resets):
	// they may still exist, so a caller removing pages missing from Seen
	// should spare these. A 429 counts as a failure too.
	Failed   map[string]bool
	Duration time.Duration
}

// Sentinel errors, wrapped with context by Crawl.
var (
	// ErrUnreachable: the site did not answer at all (connection refused,
	// DNS failure, timeout).
	ErrUnreachable = errors.New("site unreachable")
	// ErrNoPages: the crawl ended without a single indexable page.
	ErrNoPages = errors.New("no indexable pages found")
)

const (
	defaultMaxPages    = 500
	defaultConcurrency = 4
	defaultTimeout     = 15 * time.Second
	defaultMaxBody     = 5 << 20
	defaultUserAgent   = "sitebot/0.1"
	defaultPerHost     = 2
	defaultRetries     = 2
	maxRedirects       = 10
	maxRobotsBytes     = 512 << 10 // RFC 9309 §2.5: parse at least 500 KiB
	maxSitemaps        = 50
)

// Crawler fetches one site at a time. It is safe for concurrent use.
type Crawler struct {
	opts    Options
	client  *http.Client
	dialer  *guardDialer // nil with a caller's Client
	log     *slog.Logger
	agent   string // robots.txt product token
	retries int
	perHost int
	optsErr error // reported by Crawl

	mu     sync.Mutex
	robots map[string]*robotsEntry // by origin, shared by the crawls of this Crawler
	hosts  map[string]*hostTurn    // by host[:port]
}

// New returns a Crawler with opts, defaults filled in.
func New(opts Options) *Crawler {
	if opts.MaxPages <= 0 {
		opts.MaxPages = defaultMaxPages
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaultConcurrency
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = defaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = defaultMaxBody
	}
	if strings.TrimSpace(opts.UserAgent) == "" {
		opts.UserAgent = defaultUserAgent
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Crawler{opts: opts, log: log, agent: agentToken(opts.UserAgent),
		retries: opts.Retries, perHost: opts.PerHostConcurrency,
		robots: map[string]*robotsEntry{}, hosts: map[string]*hostTurn{}}
	switch {
	case c.retries == 0:
		c.retries = defaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.perHost <= 0 {
		c.perHost = defaultPerHost
	}
	c.perHost = min(c.perHost, opts.Concurrency)
	var hc http.Client
	if opts.Client != nil {
		hc = *opts.Client
		if opts.Policy != nil {
			c.optsErr = errors.New("crawler: Options.Policy cannot be combined with Options.Client: the policy needs the crawler's own dialer")
		} else if opts.Resolver != nil {
			c.optsErr = errors.New("crawler: Options.Resolver cannot be combined with Options.Client")
		}
	} else {
		c.dialer = newGuardDialer(opts.Policy, opts.Resolver)
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = opts.Concurrency
		t.DialContext = c.dialer.DialContext
		if opts.Policy != nil {
			t.Proxy = nil // a proxy would connect on our behalf, unchecked
		}
		hc = http.Client{Transport: t, Timeout: opts.RequestTimeout}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.client = &hc
	return c
}

// Crawl fetches the site of start (its scheme, host and port, after the
// start URL's own redirects to a www./non-www. twin, plus
// Options.AllowedHosts) and calls visit once per indexable page, serially,
// never concurrently. Seeds are start, /sitemap.xml and the sitemaps
// robots.txt names. An error from visit stops the crawl and is returned
// wrapped; so is ctx's error. With no page at all the error wraps
// ErrNoPages, or ErrUnreachable when the site did not answer, or
// ErrBlockedAddress when Options.Policy refused it. The Report is filled in
// either case.
func (c *Crawler) Crawl(ctx context.Context, start string, visit func(context.Context, Page) error) (Report, error) {
	began := time.Now()
	if c.optsErr != nil {
		return Report{}, c.optsErr
	}
	su, err := url.Parse(strings.TrimSpace(start))
	if err == nil {
		err = normalize(su)
	}
	if err != nil {
		return Report{}, fmt.Errorf("crawler: start URL %q must be an absolute http:// or https:// URL: %w", start, err)
	}
	if ip, ok := parseIPHost(su.Hostname()); ok && c.opts.Policy != nil {
		if err := c.opts.Policy.Check(ip); err != nil {
			return Report{}, fmt.Errorf("crawler: start URL %s: %w", su, err)
		}
	}
	cctx := ctx
	if c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeoutCause(ctx, c.opts.Timeout, errCrawlTimeout)
		defer cancel()
	}
	r := &run{
		parent:   ctx,
		depth:    map[string]int{},
		tooDeep:  map[string]bool{},
		c:        c,
		visit:    visit,
		began:    began,
		known:    map[string]bool{},
		emitted:  map[string]bool{},
		hashes:   map[string]string{},
		skipped:  map[string]bool{},
		offSite:  map[string]bool{},
		nofollow: map[string]bool{},
		sitemaps: map[string]bool{},
	}
	r.report.Seen = r.emitted
	r.report.Failed = map[string]bool{}
	err = r.crawl(cctx, su)
	if errors.Is(context.Cause(cctx), errCrawlTimeout) && ctx.Err() == nil &&
		(err == nil || errors.Is(err, context.DeadlineExceeded)) {
		c.log.Info("crawl timeout reached", "start", su.String(), "timeout", c.opts.Timeout)
		err = nil
		r.report.Truncated, r.report.StopReason = true, "timeout"
	}
	r.report.Duration = time.Since(began)
	r.report.Hosts = r.site.hosts()
	c.log.Info("crawl finished", "start", su.String(), "pages", r.report.Pages, "fetched", r.report.Fetched,
		"not_modified", r.report.NotModified, "skipped", len(r.report.Skipped), "truncated", r.report.Truncated, "stop_reason", r.report.StopReason, "took", r.report.Duration, "err", err)
	return r.report, err
}

// site is what the start phase learns; read-only afterwards, so fetches
// share it freely.
type site struct {
	origin  string          // scheme://host[:port] of the site
	aliases map[string]bool // origins that redirect to it (www./non-www. twins)
	extra   map[string]bool // Options.AllowedHosts, host[:port] as in a normalised URL
	robots  *robots         // the origin's
}

// onSite returns u moved onto the site's origin when it is on the site or
// an alias of it, u itself when it is on an allowed host, and ok=false when
// it is elsewhere.
func (s *site) onSite(u *url.URL) (*url.URL, bool) {
	o := origin(u)
	if o == s.origin {
		return u, true
	}
	if !s.aliases[o] {
		return u, s.extra[u.Host]
	}
	v := *u
	su, _ := url.Parse(s.origin)
	v.Scheme, v.Host = su.Scheme, su.Host
	return &v, true
}

func (s *site) hosts() []string {
	if s == nil {
		return nil
	}
	var hs []string
	for _, o := range append([]string{s.origin}, sortedKeys(s.aliases)...) {
		if u, err := url.Parse(o); err == nil && !slices.Contains(hs, u.Host) {
			hs = append(hs, u.Host)
		}
	}
	for _, h := range sortedKeys(s.extra) {
		if !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	return hs
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// job is one URL to fetch.
type job struct {
	url     *url.URL
	sitemap bool // parse as a sitemap, not a page
	named   bool // a sitemap that robots.txt names (its absence is worth a Skip)
	depth   int  // links from the start URL
}

// result is what a fetch yields; the coordinator applies it.
type result struct {
	job      job
	final    *url.URL   // after redirects; nil when the fetch failed
	hops     []*url.URL // URLs that redirected
	page     *Page      // an indexable page
	links    []link     // links to follow
	locs     []string   // a sitemap's page URLs
	children []string   // a sitemap index's sitemaps
	skip     string     // why the URL was not indexed
	canceled bool       // the crawl's context ended during the fetch
	netErr   error      // the request failed without an answer
	status   int        // the HTTP status of the answer, 0 without one

	notModified bool // 304 to a conditional request; links hold Known.Links
	noRequest   bool // skipped before any request (robots.txt)
}

// run is the state of one crawl. Only the coordinator goroutine touches it.
type run struct {
	c      *Crawler
	visit  func(context.Context, Page) error
	parent context.Context // for visit: the crawl's Timeout does not cut a visit short
	began  time.Time
	site   *site

	queue    []job
	known    map[string]bool   // URLs queued or fetched
	emitted  map[string]bool   // page URLs visited (Report.Seen)
	hashes   map[string]string // content hash -> page URL
	skipped  map[string]bool   // URLs already in Report.Skipped
	offSite  map[string]bool   // links to other sites, counted once
	nofollow map[string]bool   // targets of rel=nofollow links
	sitemaps map[string]bool   // sitemap URLs queued
	depth    map[string]int    // least depth a queued URL was found at
	tooDeep  map[string]bool   // URLs found only beyond MaxDepth, so far
	report   Report
}

func (r *run) crawl(ctx context.Context, start *url.URL) error {
	c := r.c
	// robots.txt first: RFC 9309 §2.3.1.3-4.
	r.site = &site{origin: origin(start), aliases: map[string]bool{}, extra: allowedHosts(c.opts.AllowedHosts)}
	rb, err := c.robotsFor(ctx, start)
	if err != nil {
		return r.startFailed(ctx, start, err)
	}
	r.site.robots = rb

	// The start URL may redirect to its www./non-www. twin or to https;
	// that origin becomes the site, the start's origin an alias.
	startCheck := func(u *url.URL) (*url.URL, string) {
		if o := origin(u); o != r.site.origin && !r.site.aliases[o] {
			cur, _ := url.Parse(r.site.origin)
			if !wwwVariant(cur.Hostname(), u.Hostname()) {
				return nil, "the start URL redirects to another site (" + u.String() + ")"
			}
			rb, err := c.robotsFor(ctx, u)
			if err != nil {
				return nil, "robots.txt of " + o + ": " + err.Error()
			}
			r.site.aliases[r.site.origin] = true
			r.site.origin, r.site.robots = o, rb
		}
		v, _ := r.site.onSite(u)
		if !r.site.robots.Allowed(c.agent, v.String()) {
			return nil, "redirects to " + v.String() + ", disallowed by robots.txt"
		}
		return v, ""
	}
	r.known[start.String()] = true
	r.depth[start.String()] = 0
	if !r.site.robots.Allowed(c.agent, start.String()) {
		r.addSkip(start.String(), "disallowed by robots.txt")
	} else {
		res := c.fetch(ctx, r.site, job{url: start}, startCheck)
		if res.netErr != nil && !res.canceled {
			return r.startFailed(ctx, start, res.netErr)
		}
		if err := r.apply(ctx, res); err != nil {
			return err
		}
	}

	// Sitemaps: the conventional one, then those robots.txt names.
	su, _ := url.Parse(r.site.origin + "/sitemap.xml")
	r.addSitemap(su.String(), false)
	for _, s := range r.site.robots.sitemaps {
		r.addSitemap(s, true)
	}
	return r.loop(ctx)
}

// startFailed maps a failure to reach the site into the crawl's error.
func (r *run) startFailed(ctx context.Context, start *url.URL, err error) error {
	var re *robotsError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("crawler: crawl %s: %w", start, ctx.Err())
	case errors.As(err, &re):
		r.addSkip(re.url, re.Error())
		return fmt.Errorf("crawler: %s: %w", re.Error(), ErrNoPages)
	case errors.Is(err, ErrBlockedAddress):
		return fmt.Errorf("crawler: fetch %s: %w", start, err)
	}
	return fmt.Errorf("crawler: fetch %s: %w: %w", start, ErrUnreachable, err)
}

// loop runs the frontier with at most Concurrency fetches in flight.
func (r *run) loop(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, r.c.opts.Concurrency)
	inflight := 0
	var stop error
	maxFetches := r.c.opts.MaxPages*10 + 100 // a bound for sites of endless non-pages

	for {
		for stop == nil && ctx.Err() == nil && inflight < r.c.opts.Concurrency && len(r.queue) > 0 {
			if r.report.Fetched+inflight >= maxFetches {
				r.report.Truncated, r.report.StopReason = true, "max requests"
				r.queue = nil
				break
			}
			j := r.queue[0]
			r.queue = r.queue[1:]
			inflight++
			go func() { results <- r.c.fetch(ctx, r.site, j, nil) }()
		}
		if inflight == 0 {
			break
		}
		res := <-results
		inflight--
		if stop != nil || ctx.Err() != nil {
			continue // draining
		}
		if err := r.apply(ctx, res); err != nil {
			stop = err
			cancel()
			continue
		}
		if r.report.Pages+r.report.NotModified >= r.c.opts.MaxPages && (len(r.queue) > 0 || inflight > 0) {
			r.report.Truncated, r.report.StopReason = true, "max pages"
			stop = errTruncated
			cancel()
		}
	}
	if stop != nil && stop != errTruncated {
		return stop
	}
	if err := ctx.Err(); err != nil && stop == nil {
		return fmt.Errorf("crawler: crawl %s: %w", r.site.origin, err)
	}
	for _, u := range sortedKeys(r.nofollow) {
		if !r.known[u] && !r.emitted[u] {
			r.addSkip(u, "only linked with rel=nofollow")
		}
	}
	for _, u := range sortedKeys(r.tooDeep) {
		if !r.known[u] && !r.emitted[u] {
			r.addSkip(u, fmt.Sprintf("more than %d links away from the start URL (MaxDepth)", r.c.opts.MaxDepth))
		}
	}
	if r.report.Pages+r.report.NotModified == 0 {
		return fmt.Errorf("crawler: crawl %s: %w%s", r.site.origin, ErrNoPages, skipSummary(r.report.Skipped))
	}
	return nil
}

var errTruncated = errors.New("truncated")

// apply folds one fetch result into the crawl: visits its page and queues
// its links. Only the coordinator calls it.
func (r *run) apply(ctx context.Context, res result) error {
	if res.canceled {
		return nil
	}
	if !res.noRequest {
		r.report.Fetched++
	}
	for _, h := range res.hops {
		r.known[h.String()] = true
	}
	if res.final != nil {
		r.known[res.final.String()] = true
	}
	if res.skip != "" {
		r.addSkip(res.job.url.String(), res.skip)
	}
	if !res.job.sitemap && (res.netErr != nil || res.status >= 500 || res.status == http.StatusTooManyRequests) {
		r.report.Failed[res.job.url.String()] = true
	}
	depth := res.job.depth
	if d, ok := r.depth[res.job.url.String()]; ok {
		depth = min(depth, d)
	}
	if res.notModified {
		if k := res.final.String(); !r.emitted[k] {
			r.emitted[k] = true
			r.report.NotModified++
			r.c.log.Debug("not modified", "url", k)
		}
	}
	if p := res.page; p != nil {
		switch first, dup := r.hashes[p.Hash]; {
		case r.emitted[p.URL]:
			r.addSkip(res.job.url.String(), "duplicate of "+p.URL)
		case dup:
			r.addSkip(res.job.url.String(), "same content as "+first)
		default:
			r.hashes[p.Hash] = p.URL
			r.emitted[p.URL] = true
			r.depth[p.URL] = min(depth, r.depthOf(p.URL))
			r.report.Pages++
			r.c.log.Debug("page", "url", p.URL, "title", p.Title, "sections", len(p.Sections), "faqs", len(p.FAQs))
			if err := r.visit(r.parent, *p); err != nil {
				return fmt.Errorf("crawler: visit %s: %w", p.URL, err)
			}
		}
	}
	for _, l := range res.links {
		r.addLink(l, depth+1)
	}
	for _, loc := range res.locs {
		r.addPageURL(loc, "listed in a sitemap on another site", 1)
	}
	for _, s := range res.children {
		r.addSitemap(s, true)
	}
	if f := r.c.opts.Progress; f != nil {
		f(Progress{Fetched: r.report.Fetched, Queued: len(r.queue), Pages: r.report.Pages,
			Skipped: len(r.report.Skipped), Elapsed: time.Since(r.began)})
	}
	return nil
}

func (r *run) addSkip(u, reason string) {
	if r.skipped[u] {
		return
	}
	r.skipped[u] = true
	r.report.Skipped = append(r.report.Skipped, Skip{URL: u, Reason: reason})
	r.c.log.Debug("skip", "url", u, "reason", reason)
}

func (r *run) addLink(l link, depth int) {
	u, ok := r.site.onSite(l.url)
	if !ok {
		if k := l.url.String(); !r.offSite[k] {
			r.offSite[k] = true
			r.report.OffSite++
		}
		return
	}
	if l.nofollow {
		r.nofollow[u.String()] = true
		return
	}
	r.enqueue(u, depth)
}

func (r *run) addPageURL(raw, offSite string, depth int) {
	u, err := url.Parse(raw)
	if err == nil {
		err = normalize(u)
	}
	if err != nil {
		return
	}
	v, ok := r.site.onSite(u)
	if !ok {
		r.addSkip(u.String(), offSite)
		return
	}
	r.enqueue(v, depth)
}

// depthOf returns the least depth u was queued at, or a large number.
func (r *run) depthOf(u string) int {
	if d, ok := r.depth[u]; ok {
		return d
	}
	return int(^uint(0) >> 1)
}

// enqueue queues a page URL found depth links away from the start, unless
// it is known, too deep or disallowed by a robots.txt the crawler has (the
// fetch checks the others).
func (r *run) enqueue(u *url.URL, depth int) {
	key := u.String()
	if d, ok := r.depth[key]; ok && depth < d {
		r.depth[key] = depth // still queued, or fetched: children use the least depth
	}
	if r.known[key] {
		return
	}
	if max := r.c.opts.MaxDepth; max > 0 && depth > max {
		r.tooDeep[key] = true
		return
	}
	r.known[key] = true
	r.depth[key] = depth
	if rb := r.c.cachedRobots(origin(u)); rb != nil && !rb.Allowed(r.c.agent, key) {
		r.addSkip(key, "disallowed by robots.txt")
		return
	}
	r.queue = append(r.queue, job{url: u, depth: depth})
}

func (r *run) addSitemap(raw string, named bool) {
	u, err := url.Parse(raw)
	if err == nil {
		err = normalize(u)
	}
	if err != nil {
		return
	}
	v, ok := r.site.onSite(u)
	if !ok {
		r.addSkip(u.String(), "sitemap on another site")
		return
	}
	key := v.String()
	if r.sitemaps[key] {
		return
	}
	// A sitemap that robots.txt names is an invitation; the /sitemap.xml
	// sitebot guesses on its own obeys the rules like any other URL.
	if rb := r.c.cachedRobots(origin(v)); !named && rb != nil && !rb.Allowed(r.c.agent, key) {
		r.sitemaps[key] = true
		r.addSkip(key, "disallowed by robots.txt")
		return
	}
	if len(r.sitemaps) >= maxSitemaps {
		r.addSkip(key, fmt.Sprintf("more than %d sitemaps", maxSitemaps))
		return
	}
	r.sitemaps[key] = true
	r.queue = append(r.queue, job{url: v, sitemap: true, named: named})
}

// allowedHosts normalises Options.AllowedHosts to host[:port] as a
// normalised URL holds it; a default port is also accepted without it.
func allowedHosts(hosts []string) map[string]bool {
	m := map[string]bool{}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		for _, scheme := range []string{"http", "https"} {
			u := &url.URL{Scheme: scheme, Host: h, Path: "/"}
			if normalize(u) == nil {
				m[u.Host] = true
			}
		}
	}
	return m
}

var errCrawlTimeout = errors.New("crawl timeout reached")

// skipSummary names the first skipped URLs and why, so that an empty crawl
// says what went wrong.
func skipSummary(skipped []Skip) string {
	if len(skipped) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(": ")
	for i, s := range skipped {
		if i == 3 {
			fmt.Fprintf(&b, " and %d more", len(skipped)-3)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s)", s.URL, s.Reason)
	}
	return b.String()
}
