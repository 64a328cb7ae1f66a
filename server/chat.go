package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/retriever"
)

// Answer modes.
const (
	ModeLLM        = "llm"
	ModeExtractive = "extractive"
)

// ChatRequest is a visitor's message.
type ChatRequest struct {
	Message        string    `json:"message"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Customer       *Customer `json:"customer,omitempty"`
}

// Customer identifies a logged-in customer of the site. Token is the hex
// HMAC-SHA256 of ID under the identity secret, computed by the site's
// backend; without a valid token the visitor is anonymous.
type Customer struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// ChatResponse is the answer to a ChatRequest.
type ChatResponse struct {
	Answer         string   `json:"answer"`
	Refused        bool     `json:"refused"`
	Handoff        bool     `json:"handoff"`
	Mode           string   `json:"mode"`
	Sources        []Source `json:"sources"`
	ConversationID string   `json:"conversation_id"`
	HandoffReason  string   `json:"handoff_reason,omitempty"` // ReasonRequested or ReasonFrustrated
	// ContactURL is the site's contact page, set on refusals when known (gate_handoff.go).
	ContactURL string `json:"contact_url,omitempty"`
	// ContactRequested: the handoff has no contact for the visitor yet;
	// ReplyExpected (RFC 3339): outside business hours, when the team
	// opens again (hours.go).
	ContactRequested bool   `json:"contact_requested,omitempty"`
	ReplyExpected    string `json:"reply_expected,omitempty"`
}

// Source is a page (section) an answer comes from.
type Source struct {
	URL   string  `json:"url"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

// InputError is a problem with the visitor's request (HTTP 400).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// errFirstTokenTimeout cancels a model call that has not started answering in time.
var errFirstTokenTimeout = errors.New("the model sent no token in time")

// maxCustomerID bounds a customer id; longer ones are treated as anonymous.
const maxCustomerID = 256

// Answer answers one chat message: the handoff gate, small talk, retrieval
// and the scope gate, then the model (or the extractive fallback). onToken,
// if not nil, receives the answer's text as it is produced; an error from it
// stops the answer. ctx should be the visitor's request: when it is
// cancelled, so is the model call. A problem with req is an *InputError.
func (s *Server) Answer(ctx context.Context, req ChatRequest, onToken func(string) error) (ChatResponse, error) {
	start := time.Now()
	question := strings.TrimSpace(req.Message)
	if err := validateMessage(question); err != nil {
		return ChatResponse{}, err
	}
	streaming := onToken != nil
	if !streaming {
		onToken = func(string) error { return nil }
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AnswerTimeout)
	defer cancel()

	customerID, verified := s.verifyCustomer(req.Customer)
	convID, known, err := s.conversationFor(ctx, req.ConversationID, customerID, verified) // profiles.go
	if err != nil {
		return ChatResponse{}, err
	}
	if r, owned, err := s.agentOwned(ctx, convID, known, question, customerID, verified, onToken); owned || err != nil {
		return r, err // a person owns the conversation: the bot stays silent (handoff.go)
	}
	profile := s.profile(ctx, customerID, verified)

	var history []llm.Message
	offered := false
	if known && s.conv != nil {
		turns, err := s.conv.Recent(ctx, convID, s.cfg.HistoryTurns)
		if err != nil {
			return ChatResponse{}, fmt.Errorf("server: history: %w", err)
		}
		for _, t := range turns {
			history = append(history, llm.Message{Role: t.Role, Content: t.Content})
		}
		if n := len(turns); n > 0 && turns[n-1].Role == conversation.RoleAssistant {
			offered = isRefusal(turns[n-1].Content)
		}
	}

	resp := ChatResponse{Mode: s.mode(), Sources: []Source{}, ConversationID: convID}
	text := repliesFor(question)
	hits, confidence := 0, 0.0

	switch classify(question, offered) {
	case intentHandoff:
		resp.Answer, resp.Handoff, resp.HandoffReason = text.handoff, true, ReasonRequested
	case intentFrustrated:
		resp.Answer, resp.Handoff, resp.HandoffReason = text.frustrated, true, ReasonFrustrated
	case intentGreeting:
		resp.Answer = text.greeting
	case intentThanks:
		resp.Answer = text.thanks
	case intentBye:
		resp.Answer = text.bye
	case intentIdentity:
		resp.Answer = text.identity
	default:
		if s.humanOnly(question, text, &resp) { // gate_handoff.go: the operator's human-only topics
			break
		}
		if s.answerFromProfile(question, profile, &resp) { // profiles.go: "which plan am I on?" with no model
			break
		}
		result, err := s.retrieve(ctx, question, history)
		if err != nil {
			return ChatResponse{}, err
		}
		hits, confidence = len(result.Hits), result.Confidence
		if len(result.Hits) == 0 || result.Confidence < s.cfg.MinConfidence {
			resp.Answer, resp.Refused = text.refusal, true
			break
		}
		if err := s.answerFromHits(ctx, question, result.Hits, history, profile, text, &resp, streaming, onToken); err != nil {
			return ChatResponse{}, err
		}
	}
	s.escalate(history, text, &resp)                                         // gate_handoff.go: repeated refusals, contact page
	if err := s.handoffNotice(ctx, convID, known, text, &resp); err != nil { // hours.go: business hours, contact
		return ChatResponse{}, err
	}
	if modelAnswered := resp.Mode == ModeLLM && hits > 0 && !resp.Refused; !modelAnswered {
		// Canned and extractive answers arrive in one piece, so that
		// streaming clients see text arrive as they do with the model's.
		if err := onToken(resp.Answer); err != nil {
			return ChatResponse{}, fmt.Errorf("server: send answer: %w", err)
		}
	}

	s.store(ctx, convID, question, resp.Answer, customerID, verified)
	if resp.Handoff {
		s.openHandoff(ctx, convID, customerID, resp.HandoffReason) // handoff.go
	}
	s.log.Info("chat answered",
		"conversation", convID, "mode", resp.Mode, "refused", resp.Refused,
		"handoff", resp.Handoff, "handoff_reason", resp.HandoffReason,
		"hits", hits, "confidence", confidence, "sources", len(resp.Sources),
		"customer_verified", verified, "took", time.Since(start).Round(time.Millisecond))
	return resp, nil
}

// retrieve finds the passages for question. A follow-up question (see
// followUpQuery) is searched with the previous question's topic words
// added; a short question whose own search is too unsure to answer is
// retried that way, and the surer result is kept.
func (s *Server) retrieve(ctx context.Context, question string, history []llm.Message) (retriever.Result, error) {
	rewritten, strong, short := followUpQuery(question, history)
	query := question
	if strong {
		query = rewritten
	}
	result, err := s.ret.Retrieve(ctx, query, s.cfg.TopK)
	if err != nil {
		return retriever.Result{}, fmt.Errorf("server: retrieve: %w", err)
	}
	unsure := len(result.Hits) == 0 || result.Confidence < s.cfg.MinConfidence
	if !strong && short && rewritten != "" && unsure {
		again, err := s.ret.Retrieve(ctx, rewritten, s.cfg.TopK)
		if err != nil {
			return retriever.Result{}, fmt.Errorf("server: retrieve: %w", err)
		}
		if len(again.Hits) > 0 && again.Confidence > result.Confidence {
			result, query = again, rewritten
		}
	}
	if query != question {
		s.log.Debug("follow-up question searched with the previous topic", "strong", strong)
	}
	return result, nil
}

// answerFromHits fills resp from the retrieved hits, with the model when
// there is one (falling back to the extractive answer when the model fails
// before the visitor saw any of its text) and extractively otherwise.
func (s *Server) answerFromHits(ctx context.Context, question string, hits []indexer.Hit,
	history []llm.Message, profile []llm.ProfileField, text replies, resp *ChatResponse, streaming bool, onToken func(string) error) error {
	passages, sources := passagesOf(hits)
	if s.model != nil {
		answer, emitted, err := s.modelAnswer(ctx, question, passages, sources, history, profile, onToken)
		switch {
		case err == nil:
			resp.Mode = ModeLLM
			if llm.IsNoAnswer(answer.text) || strings.TrimSpace(answer.text) == "" {
				resp.Answer, resp.Refused = text.refusal, true
				return nil
			}
			resp.Answer, resp.Sources = strings.TrimSpace(answer.text), answer.sources
			return nil
		case errors.Is(err, errPromptLeak):
			// Injected page text can talk a model into reciting its rules:
			// the visitor gets the refusal, never the rules.
			s.log.Warn("answer withheld: the model repeated its system rules")
			resp.Mode, resp.Answer, resp.Refused = ModeLLM, text.refusal, true
			return nil
		case ctx.Err() != nil: // the visitor left, or the answer ran out of time
			return fmt.Errorf("server: model: %w", context.Cause(ctx))
		case emitted && streaming: // the visitor has seen part of the answer
			return fmt.Errorf("server: model failed mid-answer: %w", err)
		case errors.Is(err, errQueueFull) || errors.Is(err, errQueueTimeout):
			inFlight, waiting := s.queue.stats()
			s.log.Warn("model busy, answering extractively", "reason", err, "in_flight", inFlight, "waiting", waiting)
		default:
			s.log.Warn("model failed, answering extractively", "err", err)
		}
	}
	resp.Mode = ModeExtractive
	answer := llm.Extract(question, passages)
	if answer == "" {
		resp.Answer, resp.Refused = text.refusal, true
		return nil
	}
	resp.Answer = answer
	for _, src := range sources {
		if strings.Contains(answer, src.URL) {
			resp.Sources = append(resp.Sources, src)
		}
	}
	if len(resp.Sources) == 0 {
		resp.Sources = sources
	}
	return nil
}

// modelReply is the model's answer and the sources its prompt held.
type modelReply struct {
	text    string
	sources []Source
}

// modelAnswer waits for a model slot (modelQueue), builds the prompt within
// the context budget and calls the model. Passages left out of the prompt
// are left out of the sources too.
func (s *Server) modelAnswer(ctx context.Context, question string, passages []llm.Passage, sources []Source,
	history []llm.Message, profile []llm.ProfileField, onToken func(string) error) (reply modelReply, emitted bool, err error) {
	release, err := s.queue.acquire(ctx)
	if err != nil {
		return modelReply{}, false, err
	}
	defer release()

	budget := s.cfg.ContextBudget
	var counter *llm.TokenCounter
	if sz, ok := s.model.(promptSizer); ok {
		counter = sz.Tokens()
		if limit := sz.PromptLimit(); limit > 0 && limit < budget {
			budget = limit
		}
	}
	msgs, fit := llm.PromptWithin(question, passages, history, budget, counter, llm.WithProfile(profile))
	if fit.Dropped > 0 || fit.Cut > 0 || fit.HistoryDropped > 0 || fit.Over {
		s.log.Info("prompt fitted to the context budget",
			"budget", budget, "passages", len(fit.Kept), "dropped", fit.Dropped, "cut", fit.Cut,
			"history", fit.History, "history_dropped", fit.HistoryDropped, "tokens", fit.Tokens, "over", fit.Over)
	}
	kept := make([]Source, 0, len(fit.Kept))
	hosts := newHostSet()
	for k := range s.answerHosts {
		hosts[k] = true
	}
	for _, i := range fit.Kept {
		kept = append(kept, sources[i])
		hosts.add(passages[i].URL)
	}
	text, emitted, err := s.chat(ctx, msgs, hosts, onToken)
	return modelReply{text: text, sources: kept}, emitted, err
}

// chat calls the model, passing its text on to onToken except while it may
// still turn out to be the NoAnswer sentence (which the visitor should not
// see: they get the refusal instead). emitted reports whether anything
// reached onToken. A model that sends nothing within FirstTokenTimeout is
// cancelled with errFirstTokenTimeout.
//
// The text passes through a linkFilter (links to hosts other than hosts are
// removed) and a leakGuard (a reply that recites the system rules is stopped
// with errPromptLeak before any of them is sent) before onToken, and answer
// is the filtered text.
func (s *Server) chat(ctx context.Context, msgs []llm.Message, hosts hostSet, onToken func(string) error) (answer string, emitted bool, err error) {
	mctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var started atomic.Bool
	timer := time.AfterFunc(s.cfg.FirstTokenTimeout, func() {
		if !started.Load() {
			cancel(errFirstTokenTimeout)
		}
	})
	defer timer.Stop()

	var out strings.Builder
	guard := s.rulesGuard(func(tok string) error {
		out.WriteString(tok)
		emitted = true
		return onToken(tok)
	})
	links := &linkFilter{hosts: hosts, emit: guard.Write}
	var held strings.Builder
	holding := true
	raw, err := s.model.Chat(mctx, msgs, func(tok string) error {
		started.Store(true)
		if holding {
			held.WriteString(tok)
			if llm.MayBeNoAnswer(held.String()) {
				return nil
			}
			holding = false
			tok = held.String()
		}
		if tok == "" {
			return nil
		}
		return links.Write(tok)
	})
	if err != nil && errors.Is(context.Cause(mctx), errFirstTokenTimeout) && ctx.Err() == nil {
		err = fmt.Errorf("%w (%s): %w", errFirstTokenTimeout, s.cfg.FirstTokenTimeout, err)
	}
	if err != nil {
		return out.String(), emitted, err
	}
	if holding {
		if llm.IsNoAnswer(held.String()) {
			return raw, emitted, nil
		}
		// A short answer that looked like the start of NoAnswer to the end.
		if err := links.Write(held.String()); err != nil {
			return out.String(), emitted, err
		}
	}
	if err := links.Close(); err != nil {
		return out.String(), emitted, err
	}
	err = guard.Close()
	return out.String(), emitted, err
}

// passagesOf turns hits into the model's passages and the answer's sources,
// one per URL, best first.
func passagesOf(hits []indexer.Hit) ([]llm.Passage, []Source) {
	var passages []llm.Passage
	var sources []Source
	seen := map[string]bool{}
	for _, h := range hits {
		if h.URL == "" || seen[h.URL] {
			continue
		}
		seen[h.URL] = true
		section := h.Section()
		passages = append(passages, llm.Passage{URL: h.URL, Title: h.Title, Heading: section, Text: h.Text})
		title := h.Title
		if section != "" {
			if title != "" {
				title += " — "
			}
			title += section
		}
		sources = append(sources, Source{URL: h.URL, Title: title, Score: h.Score})
	}
	return passages, sources
}

func validateMessage(q string) error {
	switch {
	case q == "":
		return &InputError{Msg: "message must not be empty"}
	case !utf8.ValidString(q):
		return &InputError{Msg: "message must be valid UTF-8"}
	case utf8.RuneCountInString(q) > MaxMessageRunes:
		return &InputError{Msg: fmt.Sprintf("message is too long (at most %d characters)", MaxMessageRunes)}
	}
	return nil
}

func (s *Server) mode() string {
	if s.model != nil {
		return ModeLLM
	}
	return ModeExtractive
}

// conversationID returns the conversation to continue: the requested one
// when it is well formed and known (known = true), else a new one.
func (s *Server) conversationID(ctx context.Context, requested string) (id string, known bool, err error) {
	requested = strings.ToLower(strings.TrimSpace(requested))
	if !conversation.ValidID(requested) {
		return conversation.NewID(), false, nil
	}
	if s.conv == nil {
		return requested, false, nil
	}
	ok, err := s.conv.Exists(ctx, requested)
	if err != nil {
		return "", false, fmt.Errorf("server: %w", err)
	}
	if !ok {
		return conversation.NewID(), false, nil
	}
	return requested, true, nil
}

// verifyCustomer checks the customer's token: hex(HMAC-SHA256(secret, id)).
// profile returns the verified visitor's profile for the prompt, or nil: an
// anonymous visitor, no profile source, or a lookup that failed (logged by
// customer id only; the visitor just gets the anonymous experience).
func (s *Server) profile(ctx context.Context, customerID string, verified bool) []llm.ProfileField {
	if !verified || s.cfg.Profiles == nil {
		return nil
	}
	fields, ok, err := s.cfg.Profiles.Profile(ctx, customerID)
	if err != nil {
		s.log.Warn("customer profile unavailable", "customer", customerID, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return fields
}

func (s *Server) verifyCustomer(c *Customer) (id string, verified bool) {
	if c == nil || s.cfg.IdentitySecret == "" || c.ID == "" || len(c.ID) > maxCustomerID {
		return "", false
	}
	got, err := hex.DecodeString(strings.TrimSpace(c.Token))
	if err != nil || len(got) != sha256.Size {
		return "", false
	}
	mac := hmac.New(sha256.New, []byte(s.cfg.IdentitySecret))
	mac.Write([]byte(c.ID))
	if !hmac.Equal(mac.Sum(nil), got) {
		return "", false
	}
	return c.ID, true
}

// store records the exchange. It outlives a visitor who leaves right after
// the answer, and a failure is logged, not returned: the answer was given.
func (s *Server) store(ctx context.Context, convID, question, answer, customerID string, verified bool) {
	if s.conv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.conv.Append(ctx, convID, conversation.RoleUser, question)
	if err == nil {
		err = s.conv.Append(ctx, convID, conversation.RoleAssistant, answer)
	}
	if err == nil && verified {
		err = s.conv.SetCustomer(ctx, convID, customerID)
	}
	if err != nil {
		s.log.Error("storing conversation failed", "conversation", convID, "err", err)
	}
}
