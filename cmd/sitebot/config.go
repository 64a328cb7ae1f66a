package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/sitebot/sitebot/indexer/qdrant"
	"github.com/sitebot/sitebot/server"
)

// Config is every setting of every command; each command registers the
// flags it uses and validates the part it needs.
type Config struct {
	DataDir          string
	MaxPages         int
	MaxDepth         int
	Concurrency      int
	AllowHosts       string // comma-separated extra hosts of the site
	Delay            time.Duration
	CrawlTimeout     time.Duration
	Qdrant           string
	QdrantAPIKey     string
	QdrantCollection string
	EmbedModel       string
	JSON             bool

	Addr           string
	ollama         string // raw --ollama / SITEBOT_OLLAMA / OLLAMA_HOST value; see OllamaURL
	Model          string
	LLMTimeout     time.Duration
	AdminKey       string
	IdentitySecret string
	AllowOrigins   string
	CrawlAllowNet  string // comma-separated CIDRs that crawls started over the admin API may reach
	RateLimit      float64
	TrustProxy     string        // comma-separated CIDRs of trusted reverse proxies
	ContextBudget  int           // prompt size in estimated tokens
	LLMConcurrency int           // model calls at once
	HumanTopics    string        // name=word|word,...: questions handed to a person (server.ParseHumanTopics)
	ContactURL     string        // the site's contact page; "" finds it in the index
	Retention      time.Duration // conversations older than this are purged (0: kept forever)
	ProfileURL     string        // the company backend's profile URL, with {id}

	HandoffWebhook       string // handoff delivery (handoff.go)
	HandoffWebhookSecret string
	HandoffEmail         string // comma-separated recipients
	SMTPAddr             string
	SMTPFrom             string
	SMTPUser             string
	SMTPPassword         string
	BusinessHours        string // when people answer handoffs (server.ParseBusinessHours)

	Customer string
	Server   string
	Site     string // eval: only this site's questions
}

const defaultModel = "qwen2.5:3b"

func defaultConfig() Config {
	return Config{
		DataDir:     "./sitebot-data",
		MaxPages:    500,
		Concurrency: 4,
		Addr:        "127.0.0.1:8080",
		Model:       defaultModel,
		LLMTimeout:  2 * time.Minute,

		ContextBudget:  server.DefaultContextBudget,
		LLMConcurrency: server.DefaultModelConcurrency,
		Server:         "http://127.0.0.1:8080",

		QdrantCollection: qdrant.DefaultCollection,
	}
}

func dataFlag(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "directory that holds the index and the conversations")
}

func crawlFlags(fs *flag.FlagSet, c *Config) {
	indexFlags(fs, c)
	fs.IntVar(&c.MaxPages, "max-pages", c.MaxPages, "stop after this many pages")
	fs.IntVar(&c.MaxDepth, "max-depth", c.MaxDepth, "follow links at most this many clicks from the start URL (0: no limit)")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "pages fetched at the same time")
	fs.StringVar(&c.AllowHosts, "allow-host", c.AllowHosts, "comma-separated more hosts that belong to the site (e.g. help.example.com)")
	fs.DurationVar(&c.Delay, "delay", c.Delay, "least time between two requests to one host (robots.txt Crawl-delay can raise it)")
	fs.DurationVar(&c.CrawlTimeout, "timeout", c.CrawlTimeout, "stop crawling after this long and index what was found (0: no limit)")
	embedModelFlag(fs, c)
	fs.BoolVar(&c.JSON, "json", c.JSON, "print the result as one JSON object")
}

// embedModelFlag registers --embed-model. crawl records the model in the
// index; serve and ask read it from there, so for them the flag only
// confirms it.
func embedModelFlag(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.EmbedModel, "embed-model", c.EmbedModel, "Ollama embedding model (e.g. bge-m3) for hybrid search: crawl embeds every chunk with it and records it in the index; later commands use the index's model (default: the index's, or keyword search only for a new index)")
}

func ollamaFlag(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.ollama, "ollama", c.ollama, "Ollama server URL (default $OLLAMA_HOST or http://127.0.0.1:11434)")
}

func modelFlags(fs *flag.FlagSet, c *Config) {
	gateFlags(fs, c)
	ollamaFlag(fs, c)
	fs.StringVar(&c.Model, "model", c.Model, `Ollama chat model; "" answers extractively without a model`)
	fs.DurationVar(&c.LLMTimeout, "llm-timeout", c.LLMTimeout, "longest time one answer may take before falling back to an extractive one")
}

// gateFlags are the scope and handoff gate's settings (serve, ask, eval).
func gateFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.HumanTopics, "human-topics", c.HumanTopics, `topics always handed to a person, as name=word|word,name2=word (e.g. "refunds=refund|money back|chargeback,legal=lawyer|lawsuit|GDPR request"); words match in any inflection`)
	fs.StringVar(&c.ContactURL, "contact-url", c.ContactURL, "the site's contact page, linked from refusals (default: a crawled page whose path or title says contact, support, kontakt, ...)")
}

// serveOnlyFlags are the flags serve has beyond --data (up shares crawl's --data).
func serveOnlyFlags(fs *flag.FlagSet, c *Config) {
	handoffFlags(fs, c)
	fs.StringVar(&c.Addr, "addr", c.Addr, "HOST:PORT to listen on (use :8080 to accept connections from other machines)")
	modelFlags(fs, c)
	fs.StringVar(&c.AdminKey, "admin-key", c.AdminKey, "key for the admin endpoints (Authorization: Bearer KEY)")
	fs.StringVar(&c.IdentitySecret, "identity-secret", c.IdentitySecret, "secret your backend uses to sign customer ids (HMAC-SHA256)")
	fs.StringVar(&c.CrawlAllowNet, "crawl-allow-net", c.CrawlAllowNet, "comma-separated address ranges (CIDR) that crawls started over the admin API may reach; private, loopback and link-local addresses are refused otherwise")
	fs.IntVar(&c.ContextBudget, "context-budget", c.ContextBudget, "most tokens (estimated) a prompt may take: the rules and the question always, then the best passage, the recent history and more passages while they fit")
	fs.IntVar(&c.LLMConcurrency, "llm-concurrency", c.LLMConcurrency, "model calls at once; more answers wait in line (up to 32), and are given extractively when the line is full")
	fs.Float64Var(&c.RateLimit, "rate-limit", c.RateLimit, "chat messages one client IP may send per minute (-1: no limit)")
	fs.StringVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "comma-separated address ranges (CIDR) of your reverse proxies, whose X-Forwarded-For names the client")
	fs.StringVar(&c.ProfileURL, "profile-url", c.ProfileURL, "your backend's URL for a customer's profile, with {id} (e.g. https://crm.internal/profiles/{id}), fetched at chat time for verified visitors without a pushed profile")
	fs.DurationVar(&c.Retention, "retention", c.Retention, "purge conversations nobody wrote to for this long (e.g. 720h), at start and every hour; 0 keeps them forever")
	fs.StringVar(&c.AllowOrigins, "allow-origin", c.AllowOrigins, `comma-separated origins that may embed the widget, besides the crawled site ("*" allows any)`)
}

func serveFlags(fs *flag.FlagSet, c *Config) {
	indexFlags(fs, c)
	serveOnlyFlags(fs, c)
	embedModelFlag(fs, c)
}

func askFlags(fs *flag.FlagSet, c *Config) {
	indexFlags(fs, c)
	fs.BoolVar(&c.JSON, "json", c.JSON, "print the answer as one JSON object")
	fs.StringVar(&c.Customer, "customer", c.Customer, "answer as this customer, with their profile (pushed, or from --profile-url)")
	modelFlags(fs, c)
	embedModelFlag(fs, c)
}

func pagesFlags(fs *flag.FlagSet, c *Config) {
	indexFlags(fs, c)
	fs.BoolVar(&c.JSON, "json", c.JSON, "print a JSON array")
}

func widgetFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Server, "server", c.Server, "public URL of your sitebot server, as visitors' browsers reach it")
}

func (c Config) indexPath() string { return filepath.Join(c.DataDir, "index.db") }
func (c Config) dbPath() string    { return filepath.Join(c.DataDir, "sitebot.db") }

// validateCrawl checks the settings crawl needs.
func (c Config) validateCrawl() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data (SITEBOT_DATA) must not be empty"))
	}
	if c.MaxPages < 1 {
		errs = append(errs, fmt.Errorf("--max-pages (SITEBOT_MAX_PAGES) must be at least 1, got %d", c.MaxPages))
	}
	if c.MaxDepth < 0 {
		errs = append(errs, fmt.Errorf("--max-depth (SITEBOT_MAX_DEPTH) must not be negative, got %d", c.MaxDepth))
	}
	if c.Delay < 0 || c.CrawlTimeout < 0 {
		errs = append(errs, errors.New("--delay and --timeout (SITEBOT_DELAY, SITEBOT_TIMEOUT) must not be negative"))
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		errs = append(errs, fmt.Errorf("--concurrency (SITEBOT_CONCURRENCY) must be between 1 and 64, got %d", c.Concurrency))
	}
	if c.Qdrant != "" {
		if _, _, err := net.SplitHostPort(c.Qdrant); err != nil {
			errs = append(errs, fmt.Errorf("--qdrant (SITEBOT_QDRANT) must be HOST:PORT, e.g. localhost:6334, got %q", c.Qdrant))
		}
	}
	if c.EmbedModel != "" {
		if _, err := c.OllamaURL(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// validateServe checks the settings serve needs.
func (c Config) validateServe() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data (SITEBOT_DATA) must not be empty"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr (SITEBOT_ADDR) must be HOST:PORT, got %q", c.Addr))
	}
	if _, err := c.OllamaURL(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.crawlAllowNets(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if c.Retention < 0 {
		errs = append(errs, errors.New("--retention (SITEBOT_RETENTION) must not be negative (0 keeps conversations forever)"))
	}
	if c.LLMTimeout <= 0 {
		errs = append(errs, errors.New("--llm-timeout (SITEBOT_LLM_TIMEOUT) must be positive"))
	}
	if c.ContextBudget < 200 {
		errs = append(errs, fmt.Errorf("--context-budget (SITEBOT_CONTEXT_BUDGET) must be at least 200 tokens, got %d", c.ContextBudget))
	}
	if c.LLMConcurrency < 1 || c.LLMConcurrency > 64 {
		errs = append(errs, fmt.Errorf("--llm-concurrency (SITEBOT_LLM_CONCURRENCY) must be between 1 and 64, got %d", c.LLMConcurrency))
	}
	if err := c.validateGate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateHandoff(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// OllamaURL is the Ollama base URL. Like Ollama itself it accepts
// "host", "host:port" and full URLs, defaulting to http://127.0.0.1:11434.
func (c Config) OllamaURL() (*url.URL, error) {
	s := strings.TrimSpace(c.ollama)
	if s == "" {
		s = "http://127.0.0.1:11434"
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--ollama (SITEBOT_OLLAMA, OLLAMA_HOST) must be an http(s) URL, got %q", c.ollama)
	}
	if u.Port() == "" && !strings.Contains(c.ollama, "://") {
		u.Host = net.JoinHostPort(u.Hostname(), "11434")
	}
	if h := u.Hostname(); h == "0.0.0.0" || h == "::" {
		// OLLAMA_HOST=0.0.0.0 tells the server where to listen; a client dials loopback.
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u, nil
}

// allowedHosts parses --allow-host.
func (c Config) allowedHosts() []string { return splitList(c.AllowHosts) }

// crawlAllowNets parses --crawl-allow-net.
func (c Config) crawlAllowNets() ([]netip.Prefix, error) {
	return parseNets(c.CrawlAllowNet, "--crawl-allow-net (SITEBOT_CRAWL_ALLOW_NET)")
}

// trustedProxies parses --trust-proxy.
func (c Config) trustedProxies() ([]netip.Prefix, error) {
	return parseNets(c.TrustProxy, "--trust-proxy (SITEBOT_TRUST_PROXY)")
}

// parseNets parses a comma-separated list of CIDRs or single addresses.
func parseNets(list, flag string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range splitList(list) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an address range such as 10.0.0.0/8", flag, s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// origins parses --allow-origin.
func (c Config) origins() []string {
	var out []string
	for _, o := range splitList(c.AllowOrigins) {
		out = append(out, strings.TrimRight(o, "/"))
	}
	return out
}

// validateGate checks --human-topics and --contact-url.
func (c Config) validateGate() error {
	var errs []error
	if _, err := server.ParseHumanTopics(c.HumanTopics); err != nil {
		errs = append(errs, fmt.Errorf("--human-topics (SITEBOT_HUMAN_TOPICS): %w", err))
	}
	if c.ContactURL != "" {
		u, err := url.Parse(c.ContactURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--contact-url (SITEBOT_CONTACT_URL) must be an http(s) URL, got %q", c.ContactURL))
		}
	}
	return errors.Join(errs...)
}
