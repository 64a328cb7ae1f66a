package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/crawler"
	"github.com/sitebot/sitebot/handoff"
	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/profile"
	"github.com/sitebot/sitebot/retriever"
	"github.com/sitebot/sitebot/server"
	"github.com/sitebot/sitebot/widget"
)

// app is the wired-up answering side: index, retriever, model and server.
type app struct {
	index     index
	retriever *retriever.Retriever
	conv      *conversation.Store
	profiles  *profile.Store
	handoffs  *handoff.Store
	server    *server.Server
	mode      string // what answers come from, for the start-up line
}

func (a *app) Close() error {
	return errors.Join(a.handoffs.Close(), a.profiles.Close(), a.conv.Close(), a.index.Close())
}

// openApp opens the index and the conversation store in --data and builds
// the server; it checks Ollama once and says what answers will come from.
// snippet is what the server's home page shows ("" for ask).
func openApp(ctx context.Context, e *env, log *slog.Logger, snippet string) (*app, error) {
	cfg := e.cfg
	ix, err := openIndex(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	conv, err := conversation.Open(ctx, cfg.dbPath())
	if err != nil {
		ix.Close()
		return nil, err
	}
	profiles, err := profile.Open(ctx, cfg.dbPath())
	if err != nil {
		conv.Close()
		ix.Close()
		return nil, err
	}
	handoffs, err := handoff.Open(ctx, cfg.dbPath(), cfg.handoffOptions(log)) // after conversation.Open: its tables refer to conversations
	if err != nil {
		profiles.Close()
		conv.Close()
		ix.Close()
		return nil, err
	}
	a := &app{index: ix, conv: conv, profiles: profiles, handoffs: handoffs}
	if err := indexer.CheckAnalyzer(ctx, ix); err != nil {
		log.Warn("answers may miss pages until the site is crawled again", "err", err)
	}

	origins, err := siteOrigins(ctx, ix)
	if err != nil {
		a.Close()
		return nil, err
	}
	allowNets, err := cfg.crawlAllowNets()
	if err != nil {
		a.Close()
		return nil, err
	}
	proxies, err := cfg.trustedProxies()
	if err != nil {
		a.Close()
		return nil, err
	}
	qe, err := openQueryEmbedding(ctx, cfg, ix, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	topics, err := server.ParseHumanTopics(cfg.HumanTopics)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("--human-topics (SITEBOT_HUMAN_TOPICS): %w", err)
	}
	hours, err := server.ParseBusinessHours(cfg.BusinessHours)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("--business-hours (SITEBOT_BUSINESS_HOURS): %w", err)
	}
	contact, err := contactURL(ctx, cfg, ix, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	var fetcher server.ProfileSource
	if cfg.ProfileURL != "" {
		// Pushed profiles win; the backend is asked for the others, 2 s at
		// most, and its answers are kept 5 minutes.
		f, err := profile.NewFetcher(cfg.ProfileURL, 2*time.Second, 5*time.Minute, profiles, log)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("--profile-url (SITEBOT_PROFILE_URL): %w", err)
		}
		fetcher = f
	}
	model, mode := openModel(ctx, cfg, log)
	a.mode = mode + ", " + qe.status
	srvCfg := server.Config{
		AdminKey:       cfg.AdminKey,
		IdentitySecret: cfg.IdentitySecret,
		AllowOrigins:   append(origins, cfg.origins()...),
		MinConfidence:  retriever.DefaultMinConfidence,
		HumanTopics:    topics,
		ContactURL:     contact,
		ProfileStore:   profiles,
		Profiles:       fetcher, // nil: the pushed profiles (ProfileStore)
		Handoffs:       handoffs,
		BusinessHours:  hours,
		Snippet:        snippet,
		RateLimit:      cfg.RateLimit,
		TrustedProxies: proxies,
		Crawl:          adminCrawl(ix, allowNets, log, qe.crawl...),
		Ready: func(ctx context.Context) error { // the index answers
			_, _, err := ix.Counts(ctx)
			return err
		},
		AnswerTimeout:    cfg.LLMTimeout,
		ContextBudget:    cfg.ContextBudget,
		ModelConcurrency: cfg.LLMConcurrency,
		AnswerHosts:      origins, // links in answers may only point to the crawled sites
		Logger:           log,
	}
	a.retriever = retriever.New(ix, retriever.WithEmbedder(qe.question))
	a.server = server.New(srvCfg, a.retriever, model, conv)
	return a, nil
}

// contactURL is --contact-url, or else the contact page found among the
// indexed pages ("" when there is none).
func contactURL(ctx context.Context, cfg Config, ix index, log *slog.Logger) (string, error) {
	if cfg.ContactURL != "" {
		return cfg.ContactURL, nil
	}
	pages, err := ix.Pages(ctx)
	if err != nil {
		return "", fmt.Errorf("find the contact page: %w", err)
	}
	refs := make([]server.PageRef, len(pages))
	for i, p := range pages {
		refs[i] = server.PageRef{URL: p.URL, Title: p.Title}
	}
	u := server.ContactPage(refs)
	if u != "" {
		log.Info("refusals link the contact page (set --contact-url to choose another)", "url", u)
	}
	return u, nil
}

// adminCrawl is the crawl behind POST /api/admin/crawl. Unlike the CLI,
// which crawls whatever the operator names (intranet sites included), it
// refuses internal addresses outside allow, checked at dial time so that
// redirects and DNS rebinding cannot get around it.
func adminCrawl(ix indexer.Store, allow []netip.Prefix, log *slog.Logger, opts ...indexer.Option) server.CrawlFunc {
	idx := indexer.New(ix, opts...)
	return func(ctx context.Context, start string) (indexer.Stats, error) {
		st, _, err := idx.Crawl(ctx, crawler.Options{
			Policy: &crawler.AddressPolicy{Allow: allow},
			Logger: log,
		}, start)
		return st, err
	}
}

// openModel returns the Ollama client when the server answers and has the
// model, or nil (extractive answers) after saying why. It returns the
// interface so that "no model" is a true nil, not a nil *llm.Client.
func openModel(ctx context.Context, cfg Config, log *slog.Logger) (server.Model, string) {
	if cfg.Model == "" {
		log.Info("no --model set: answering extractively (quoting the best passages)")
		return nil, "extractive answers (no --model set)"
	}
	base, _ := cfg.OllamaURL() // validated before
	client := llm.New(base, &http.Client{}, cfg.Model)
	checkCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Check(checkCtx); err != nil {
		log.Warn("no language model: answering extractively (quoting the best passages)", "err", err)
		return nil, "extractive answers (" + err.Error() + ")"
	}
	return client, fmt.Sprintf("model %s at %s", cfg.Model, base.Redacted())
}

// siteOrigins lists the origins of the indexed pages: the widget is pasted
// into those sites, so their browsers may call the chat API.
func siteOrigins(ctx context.Context, ix indexer.Store) ([]string, error) {
	urls, err := ix.PageURLs(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		o := u.Scheme + "://" + u.Host
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	if len(args) != 0 {
		return errUsage
	}
	return serve(ctx, e)
}

func runUp(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	if err := e.cfg.validateServe(); err != nil {
		return err
	}
	if _, err := crawlSite(ctx, e, args[0]); err != nil {
		return err
	}
	return serve(ctx, e)
}

// serve runs the HTTP server until ctx is done.
func serve(ctx context.Context, e *env) error {
	cfg := e.cfg
	if err := cfg.validateServe(); err != nil {
		return err
	}
	log := newLogger(e.stderr, slog.LevelInfo)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	base := publicURL(ln.Addr().(*net.TCPAddr))
	snippet, err := widget.Snippet(base)
	if err != nil {
		ln.Close()
		return err
	}
	a, err := openApp(ctx, e, log, snippet)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	rctx, stopRetention := context.WithCancel(ctx)
	retained := make(chan struct{})
	go func() { defer close(retained); keepConversations(rctx, a.conv, cfg.Retention, time.Hour, log) }()
	defer func() { stopRetention(); <-retained }()
	delivered := make(chan struct{}) // the handoff outbox worker (webhook, e-mail)
	go func() { defer close(delivered); _ = a.handoffs.Run(rctx) }()
	defer func() { stopRetention(); <-delivered }()
	fmt.Fprintf(e.stdout, "sitebot is answering at %s with %s.\nTry it at %s/ and paste this into your pages (or run 'sitebot widget --server PUBLIC_URL'):\n\n  %s\n\n", base, a.mode, base, snippet)
	return a.server.Serve(ctx, ln)
}

// publicURL is the address to print for a listener; an unspecified host
// (":8080") is shown as localhost.
func publicURL(addr *net.TCPAddr) string {
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}
