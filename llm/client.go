package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ollama/ollama/api"
)

// Defaults for the generation options; see the With* options.
const (
	DefaultNumCtx      = 4096
	DefaultKeepAlive   = 10 * time.Minute
	DefaultTemperature = 0.2
	DefaultMaxTokens   = 512
)

// DefaultBaseURL is where Ollama listens unless told otherwise.
const DefaultBaseURL = "http://127.0.0.1:11434"

// checkTimeout bounds Check when the caller's context has no earlier deadline,
// so a host that drops packets does not hang start-up.
const checkTimeout = 10 * time.Second

var (
	// ErrUnreachable means no Ollama server answered at the configured URL.
	ErrUnreachable = errors.New("ollama is not reachable")
	// ErrModelMissing means the server answers but the model is not pulled.
	ErrModelMissing = errors.New("model is not pulled")
)

// modelMissingError names the model and the command that fixes it;
// errors.Is(err, ErrModelMissing) reports true for it.
type modelMissingError struct{ model string }

func (e *modelMissingError) Error() string {
	return fmt.Sprintf("model %q is not pulled: run `ollama pull %s`", e.model, e.model)
}

func (e *modelMissingError) Is(target error) bool { return target == ErrModelMissing }

// Client answers chats with one model of one Ollama server.
// It is safe for concurrent use.
type Client struct {
	api         *api.Client
	base        *url.URL
	model       string
	numCtx      int
	keepAlive   time.Duration
	temperature float64
	maxTokens   int
	// modelCtx is the model's context window in tokens, from /api/show
	// (Check) or WithModelContext; 0: unknown.
	modelCtx atomic.Int64
	// tokens estimates prompt sizes, calibrated by the model's own counts.
	tokens TokenCounter
}

// numCtxStep is what num_ctx is rounded up to: Ollama reloads the model
// when num_ctx changes, so it should change rarely.
const numCtxStep = 512

// Option changes a Client's generation settings.
type Option func(*Client)

// WithNumCtx sets the context window in tokens (default 4096). It is always
// sent explicitly: Ollama otherwise uses the model's default, often 2048 or
// less, and silently drops the start of a longer prompt (the rules).
func WithNumCtx(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.numCtx = n
		}
	}
}

// WithModelContext sets the model's context window in tokens, when known
// better than what Check reads from Ollama (the model's trained length).
func WithModelContext(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.modelCtx.Store(int64(n))
		}
	}
}

// WithKeepAlive sets how long Ollama keeps the model loaded after a chat
// (default 10m; a negative value keeps it loaded forever).
func WithKeepAlive(d time.Duration) Option {
	return func(c *Client) { c.keepAlive = d }
}

// WithTemperature sets the sampling temperature (default 0.2: grounded
// answers should stay close to the sources).
func WithTemperature(t float64) Option {
	return func(c *Client) {
		if t >= 0 {
			c.temperature = t
		}
	}
}

// WithMaxTokens caps the length of an answer in tokens (default 512), so a
// model that never emits its end token cannot run forever.
func WithMaxTokens(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxTokens = n
		}
	}
}

// New returns a client for model on the Ollama server at base
// (nil: http://127.0.0.1:11434). hc may be nil; it should have no overall
// Timeout, since answers stream for as long as the model writes: bound
// calls with their context instead.
func New(base *url.URL, hc *http.Client, model string, opts ...Option) *Client {
	if base == nil {
		base, _ = url.Parse(DefaultBaseURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	c := &Client{
		api:         api.NewClient(base, hc),
		base:        base,
		model:       model,
		numCtx:      DefaultNumCtx,
		keepAlive:   DefaultKeepAlive,
		temperature: DefaultTemperature,
		maxTokens:   DefaultMaxTokens,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Model returns the name of the model the client chats with.
func (c *Client) Model() string { return c.model }

// Check reports whether the server answers (else an error wrapping
// ErrUnreachable that names the URL) and has the model pulled (else an error
// wrapping ErrModelMissing that names the `ollama pull` command). A name
// without a tag matches the ":latest" tag.
func (c *Client) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := c.api.Version(ctx); err != nil {
		return c.unreachable(err)
	}
	list, err := c.api.List(ctx)
	if err != nil {
		return fmt.Errorf("llm: list models at %s: %w", c.base.Redacted(), err)
	}
	want := canonicalName(c.model)
	for _, m := range list.Models {
		if canonicalName(m.Name) == want || canonicalName(m.Model) == want {
			c.learnContext(ctx)
			return nil
		}
	}
	return &modelMissingError{model: c.model}
}

// learnContext reads the model's trained context length from /api/show
// ("<arch>.context_length"), unless it is known already. Failing is fine:
// the window stays unknown and only num_ctx bounds prompts.
func (c *Client) learnContext(ctx context.Context) {
	if c.modelCtx.Load() > 0 {
		return
	}
	show, err := c.api.Show(ctx, &api.ShowRequest{Model: c.model})
	if err != nil {
		return
	}
	for k, v := range show.ModelInfo {
		if n, ok := v.(float64); ok && strings.HasSuffix(k, ".context_length") && n > 0 {
			c.modelCtx.Store(int64(n))
			return
		}
	}
}

// Tokens is the client's token counter: estimates of prompt sizes for this
// model, calibrated after every chat by the count Ollama reports.
func (c *Client) Tokens() *TokenCounter { return &c.tokens }

// PromptLimit is the most tokens a prompt may take so that the answer
// (WithMaxTokens) still fits the model's context window, or 0 when the
// window is unknown (see Check, WithModelContext).
func (c *Client) PromptLimit() int {
	n := int(c.modelCtx.Load())
	if n <= 0 {
		return 0
	}
	return max(n-c.maxTokens, 1)
}

// NumCtx is the num_ctx sent with a prompt of promptTokens estimated
// tokens: enough for the prompt and the longest answer, rounded up to a
// multiple of 512, never below the configured default (WithNumCtx), and
// never above the model's context window when it is known (Ollama would cut
// it there anyway).
func (c *Client) NumCtx(promptTokens int) int {
	need := (promptTokens + c.maxTokens + numCtxStep - 1) / numCtxStep * numCtxStep
	n := max(c.numCtx, need)
	if limit := int(c.modelCtx.Load()); limit > 0 {
		n = min(n, limit)
	}
	return n
}

// Chat sends msgs to the model and streams its answer: onToken (may be nil)
// gets each piece of text as it arrives. An error from onToken stops the
// generation and is returned wrapped; so does the cancellation of ctx (the
// connection is closed, which stops the model on the server). Chat returns
// the whole answer, or the part received before an error.
//
// Before the call, Chat estimates the prompt's tokens and sets num_ctx (see
// NumCtx); when the model's window is known and the prompt does not leave
// room for the answer, the oldest history turns are left out (never the
// first message, the rules, nor the last, the question: a caller should fit
// its passages with PromptWithin and PromptLimit first). After the call,
// the real prompt size that Ollama reports calibrates Tokens.
func (c *Client) Chat(ctx context.Context, msgs []Message, onToken func(string) error) (string, error) {
	est := c.tokens.ChatTokens(msgs)
	if limit := c.PromptLimit(); limit > 0 && est > limit && len(msgs) > 2 {
		for len(msgs) > 2 && est > limit {
			est -= c.tokens.Tokens(msgs[1].Content) + MessageOverhead
			msgs = append(msgs[:1:1], msgs[2:]...)
		}
	}
	numCtx := c.NumCtx(est)
	req := &api.ChatRequest{
		Model:     c.model,
		Messages:  make([]api.Message, len(msgs)),
		Stream:    new(true),
		KeepAlive: &api.Duration{Duration: c.keepAlive},
		Think:     &api.ThinkValue{Value: false}, // a thinking model must not stream its reasoning to visitors
		Options: map[string]any{
			"num_ctx":     numCtx,
			"temperature": c.temperature,
			"num_predict": c.maxTokens,
		},
	}
	for i, m := range msgs {
		req.Messages[i] = api.Message{Role: m.Role, Content: m.Content}
	}

	var (
		text strings.Builder
		done bool
	)
	err := c.api.Chat(ctx, req, func(r api.ChatResponse) error {
		if s := r.Message.Content; s != "" {
			text.WriteString(s)
			if onToken != nil {
				if err := onToken(s); err != nil {
					return &tokenError{err}
				}
			}
		}
		if r.Done {
			done = true
			// A count near num_ctx may be a truncated prompt: not a measure.
			if n := r.Metrics.PromptEvalCount; n > 0 && n < numCtx*9/10 {
				c.tokens.Observe(msgs, n)
			}
		}
		return nil
	})
	// The api client ends a stream cut short by ctx without an error, so
	// ctx is checked first.
	if ctxErr := ctx.Err(); ctxErr != nil {
		return text.String(), fmt.Errorf("llm: chat: %w", ctxErr)
	}
	if err != nil {
		var te *tokenError
		if errors.As(err, &te) {
			return text.String(), fmt.Errorf("llm: chat stopped by caller: %w", te.err)
		}
		return text.String(), c.mapError(err, "chat", "")
	}
	if !done {
		return text.String(), fmt.Errorf("llm: chat: the stream from %s ended before the answer was complete", c.base.Redacted())
	}
	return text.String(), nil
}

// tokenError marks an error returned by the caller's onToken, so it is not
// mistaken for a server error.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// mapError turns an error of the api client's call op ("chat", "embed")
// into one of ours: the model missing, the server unreachable, or the error
// wrapped with what was asked of which model. hint, if any, follows the
// model's name in a server's error ("is it an embedding model?").
func (c *Client) mapError(err error, op, hint string) error {
	var se api.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound && strings.Contains(se.ErrorMessage, "not found") {
		return &modelMissingError{model: c.model}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return c.unreachable(err)
	}
	if errors.As(err, &se) && hint != "" {
		return fmt.Errorf("llm: %s with %q (%s): %w", op, c.model, hint, err)
	}
	return fmt.Errorf("llm: %s with %q: %w", op, c.model, err)
}

func (c *Client) unreachable(err error) error {
	return fmt.Errorf("%w at %s: start Ollama (`ollama serve`) or pass --ollama URL: %w",
		ErrUnreachable, c.base.Redacted(), err)
}

// canonicalName lower-cases a model name and adds the ":latest" tag when it
// has none, as Ollama does ("tiny" and "tiny:latest" are one model).
func canonicalName(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return ""
	}
	if i := strings.LastIndex(name, "/"); !strings.Contains(name[i+1:], ":") {
		name += ":latest"
	}
	return name
}
