// Package server is sitebot's HTTP API (echo): the chat endpoint that the
// widget talks to, with its orchestration (handoff gate, retrieval, scope
// gate, grounded prompt, streaming), and the widget's assets.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/handoff"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/retriever"
)

// Defaults for the zero values of Config.
const (
	DefaultTopK              = 5
	DefaultMinConfidence     = 0.5
	DefaultHistoryTurns      = 8
	DefaultAnswerTimeout     = 2 * time.Minute
	DefaultFirstTokenTimeout = 60 * time.Second
	DefaultContextBudget     = llm.DefaultContextBudget
	DefaultModelConcurrency  = 2
	DefaultModelQueue        = 32
	DefaultModelQueueWait    = 30 * time.Second

	// MaxMessageRunes is the longest chat message accepted.
	MaxMessageRunes = 2000
	// MaxBodyBytes caps the body of POST /api/chat.
	MaxBodyBytes = 64 << 10

	shutdownTimeout = 10 * time.Second
)

// Config configures a Server. The zero value of each field means its default.
type Config struct {
	AdminKey       string // for the admin endpoints (later)
	IdentitySecret string // verifies customer tokens; empty: every visitor is anonymous
	// AllowOrigins lists the origins allowed to call /api/chat from a browser
	// (e.g. "https://www.example.com", "https://*.example.com"); empty = any.
	AllowOrigins  []string
	TopK          int     // passages retrieved (default 5)
	MinConfidence float64 // retrieval confidence below which the gate refuses (default 0.5)
	// HistoryTurns is how many earlier turns of a conversation the prompt gets (default 8).
	HistoryTurns int
	// AnswerTimeout bounds one answer, model included (default 2m).
	AnswerTimeout time.Duration
	// FirstTokenTimeout is how long to wait for the model's first token before
	// answering extractively instead (default 60s: a model may need loading).
	FirstTokenTimeout time.Duration
	// ContextBudget is the most tokens (estimated) a prompt may take
	// (default 1000); see llm.PromptWithin for what goes in first. A model
	// with a smaller context window lowers it.
	ContextBudget int
	// AnswerHosts are the hosts (or origins, or URLs) that links in the
	// model's answers may point to, besides the hosts of the passages it
	// was given: the crawled sites. Other links are removed (see links.go).
	AnswerHosts []string
	// ModelConcurrency is how many model calls may run at once (default 2);
	// ModelQueue how many more may wait for one, in order (default 32); and
	// ModelQueueWait how long one may wait (default 30s, and at most half
	// of what is left of AnswerTimeout). An answer that finds the queue
	// full, or waits too long, is given extractively.
	ModelConcurrency int
	ModelQueue       int
	ModelQueueWait   time.Duration
	// HumanTopics are topics that people answer, never the bot: a question
	// naming one is handed off (reason "topic:<name>"). See ParseHumanTopics.
	HumanTopics []HumanTopic
	// ContactURL is the site's contact page, linked from refusals ("": none).
	ContactURL string
	// RateLimit is how many chat requests one client IP may make per minute
	// (0: DefaultRateLimit; negative: no limit).
	RateLimit float64
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client; without them the connection's address is the client.
	TrustedProxies []netip.Prefix
	// Profiles looks up a verified visitor's customer profile for the
	// prompt; nil: no profiles (every visitor is answered anonymously).
	Profiles ProfileSource
	// ProfileStore serves the admin profile API (PUT, GET, DELETE
	// /api/admin/profiles/{id}; profiles.go) and, when Profiles is nil, is
	// also the chat's ProfileSource; nil turns that API off.
	ProfileStore ProfileStore
	// Erasers delete a customer's data held outside the conversations and
	// profiles (handoffs) when the customer is erased; nil: none.
	Erasers []Eraser
	// Handoffs keeps the conversations handed to a person and delivers
	// them (handoff.go); nil turns human handoff off.
	Handoffs *handoff.Store
	// BusinessHours are when the team answers handoffs; outside them a
	// handoff says when a reply can be expected. nil: always open.
	BusinessHours *BusinessHours
	// Now is the clock that business hours are checked against (nil: time.Now).
	Now func() time.Time
	// Crawl serves POST /api/admin/crawl; nil turns that endpoint off.
	Crawl CrawlFunc
	// Snippet is the <script> tag that the page at / shows the site owner.
	Snippet string
	// Ready, when set, is what GET /readyz checks (e.g. that the index opens).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger // nil: discard
}

func (c Config) withDefaults() Config {
	if c.TopK <= 0 {
		c.TopK = DefaultTopK
	}
	if c.MinConfidence <= 0 {
		c.MinConfidence = DefaultMinConfidence
	}
	if c.HistoryTurns <= 0 {
		c.HistoryTurns = DefaultHistoryTurns
	}
	if c.AnswerTimeout <= 0 {
		c.AnswerTimeout = DefaultAnswerTimeout
	}
	if c.FirstTokenTimeout <= 0 {
		c.FirstTokenTimeout = DefaultFirstTokenTimeout
	}
	if c.ContextBudget <= 0 {
		c.ContextBudget = DefaultContextBudget
	}
	if c.ModelConcurrency <= 0 {
		c.ModelConcurrency = DefaultModelConcurrency
	}
	if c.ModelQueue <= 0 {
		c.ModelQueue = DefaultModelQueue
	}
	if c.ModelQueueWait <= 0 {
		c.ModelQueueWait = DefaultModelQueueWait
	}
	if c.Profiles == nil && c.ProfileStore != nil {
		c.Profiles = c.ProfileStore
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Retriever finds the passages that answer a question (*retriever.Retriever).
type Retriever interface {
	Retrieve(ctx context.Context, question string, k int) (retriever.Result, error)
}

// ProfileSource gives the profile of a customer whose identity the server
// verified; ok is false when it has none.
type ProfileSource interface {
	Profile(ctx context.Context, customerID string) (fields []llm.ProfileField, ok bool, err error)
}

// Model answers a chat, streaming its text to onToken (*llm.Client).
type Model interface {
	Chat(ctx context.Context, msgs []llm.Message, onToken func(string) error) (string, error)
}

var _ Model = (*llm.Client)(nil)

// promptSizer is what a Model may offer to size its prompts (*llm.Client):
// a token counter calibrated on the model, and the most tokens a prompt may
// take (0: unknown).
type promptSizer interface {
	Tokens() *llm.TokenCounter
	PromptLimit() int
}

var _ promptSizer = (*llm.Client)(nil)

// Server answers visitors' questions over HTTP.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ret   Retriever
	model Model
	conv  *conversation.Store
	echo  *echo.Echo
	// topics matches questions to cfg.HumanTopics.
	topics *topicMatcher
	crawl  crawlJob
	rules  *ruleRuns // what answers must not recite
	// queue bounds the model calls in flight; answerHosts are the hosts
	// links in answers may point to (besides the passages').
	queue       *modelQueue
	answerHosts hostSet
	// life ends when Serve shuts down; background work (admin crawls) runs under it.
	life    context.Context
	endLife context.CancelFunc
}

// New returns a server that answers from r, with model m (nil: extractive
// answers only), keeping conversations in conv (nil: no history).
func New(cfg Config, r Retriever, m Model, conv *conversation.Store) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, ret: r, model: m, conv: conv, topics: newTopicMatcher(cfg.HumanTopics)}
	s.queue = newModelQueue(cfg.ModelConcurrency, cfg.ModelQueue, cfg.ModelQueueWait)
	s.answerHosts = newHostSet(cfg.AnswerHosts...)
	s.life, s.endLife = context.WithCancel(context.Background())
	s.rules = systemRuleRuns()
	s.echo = s.routes()
	return s
}

// Handler returns the HTTP handler (the echo instance).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully:
// requests in flight get up to 10 seconds to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		// No ReadTimeout or WriteTimeout: answers stream for as long as the
		// model writes (bounded by AnswerTimeout); the chat handler bounds
		// the reading of its body itself.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	s.endLife()
	s.stopCrawl()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() // cuts the remaining streams, which cancels their model calls
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	s.log.Info("server stopped")
	return nil
}
