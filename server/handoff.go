package server

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/handoff"
)

// ReasonAgent is the HandoffReason of a chat answer while a person owns
// the conversation: the bot stays silent (the answer is empty) and the
// visitor's message waits for the agent.
const ReasonAgent = "agent"

// maxTranscript is the most conversation turns a handoff carries.
const maxTranscript = 1000

// handoffRoutes registers the visitor's handoff endpoints (the conversation
// id, 128 random bits, is their capability) and the agent inbox (admin key).
func (s *Server) handoffRoutes(e *echo.Echo, admin *echo.Group) {
	conv := e.Group("/api/conversations") // CORS and the rate limit: see cors and rateLimit
	conv.POST("/:id/handoff", s.handleCreateHandoff)
	conv.GET("/:id/messages", s.handleAgentMessages)
	conv.OPTIONS("/:id/handoff", preflightOnly)
	conv.OPTIONS("/:id/messages", preflightOnly)

	admin.GET("/handoffs", s.handleListHandoffs)
	admin.GET("/handoffs/:id", s.handleGetHandoff)
	admin.POST("/handoffs/:id/reply", s.handleReply)
	admin.POST("/handoffs/:id/close", s.handleEndHandoff(handoff.ResolutionClosed))
	admin.POST("/handoffs/:id/handback", s.handleEndHandoff(handoff.ResolutionHandback))

	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/agent", s.handleAgentPage)
	e.Match(get, "/agent.js", agentScript)
}

func preflightOnly(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

var (
	errHandoffOff       = echo.NewHTTPError(http.StatusNotImplemented, "human handoff is not available on this server")
	errNoConversation   = echo.NewHTTPError(http.StatusNotFound, "conversation not found")
	errNoHandoff        = echo.NewHTTPError(http.StatusNotFound, "handoff not found")
	errHandoffClosed    = echo.NewHTTPError(http.StatusConflict, "the handoff is closed")
	errBadHandoffStatus = &InputError{Msg: `"status" must be open, assigned or closed`}
)

// knownConversation returns the conversation id of the request's :id
// parameter when that conversation exists.
func (s *Server) knownConversation(c echo.Context) (string, error) {
	if s.cfg.Handoffs == nil || s.conv == nil {
		return "", errHandoffOff
	}
	id := strings.ToLower(c.Param("id"))
	if !conversation.ValidID(id) {
		return "", errNoConversation
	}
	ok, err := s.conv.Exists(c.Request().Context(), id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errNoConversation
	}
	return id, nil
}

// HandoffReceipt is what the visitor gets for POST .../handoff.
type HandoffReceipt struct {
	HandoffID      string `json:"handoff_id"`
	ConversationID string `json:"conversation_id"`
	Status         string `json:"status"`
	Created        bool   `json:"created"` // false: the conversation was already handed off
	// ContactRequested: the handoff has no contact for the visitor yet.
	ContactRequested bool `json:"contact_requested,omitempty"`
	// Outside business hours, Message says (in the visitor's language) when
	// a reply can be expected, ReplyExpected (RFC 3339).
	Message       string `json:"message,omitempty"`
	ReplyExpected string `json:"reply_expected,omitempty"`
}

// handleCreateHandoff: POST /api/conversations/{id}/handoff with an
// optional {"reason": str, "contact": str, "lang": str}. 201 for a new handoff, 200 with
// the open one when there is one already.
func (s *Server) handleCreateHandoff(c echo.Context) error {
	id, err := s.knownConversation(c)
	if err != nil {
		return err
	}
	var body struct {
		Reason  string `json:"reason"`
		Contact string `json:"contact"`
		Lang    string `json:"lang"` // the visitor's language (en, de, ...); default: guessed
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &body, `{"reason": "...", "contact": "you@example.com"}`); err != nil {
			return err
		}
	}
	reason, contact := strings.TrimSpace(body.Reason), strings.TrimSpace(body.Contact)
	if err := validateHandoffText("reason", reason, handoff.MaxReasonRunes); err != nil {
		return err
	}
	if err := validateHandoffText("contact", contact, handoff.MaxContactRunes); err != nil {
		return err
	}
	if contact != "" && !validContact(contact) {
		return &InputError{Msg: `"contact" must be an e-mail address or a phone number`}
	}
	if reason == "" {
		reason = ReasonRequested
	}
	ctx := c.Request().Context()
	customer, err := s.conv.Customer(ctx, id) // recorded for verified visitors only
	if err != nil {
		return err
	}
	h, created, err := s.createHandoff(ctx, id, customer, reason, contact)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
		s.log.Info("handoff requested", "handoff", h.ID, "conversation", id, "contact_given", contact != "")
	}
	receipt := HandoffReceipt{HandoffID: h.ID, ConversationID: id, Status: h.Status, Created: created, ContactRequested: h.Contact == ""}
	text, err := s.visitorReplies(c, id, body.Lang)
	if err != nil {
		return err
	}
	if msg, next, away := s.afterHours(text); away {
		receipt.Message, receipt.ReplyExpected = msg, next.Format(time.RFC3339)
		if receipt.ContactRequested {
			receipt.Message += " " + text.askContact
		}
	}
	return c.JSON(code, receipt)
}

// visitorReplies are the canned replies in the visitor's language: lang
// when there are replies in it, else the language of the visitor's latest
// message in the conversation, else the request's Accept-Language.
func (s *Server) visitorReplies(c echo.Context, convID, lang string) (replies, error) {
	if r, ok := canned[strings.ToLower(strings.TrimSpace(lang))]; ok {
		return r, nil
	}
	turns, err := s.conv.Recent(c.Request().Context(), convID, s.cfg.HistoryTurns)
	if err != nil {
		return replies{}, err
	}
	for i := len(turns) - 1; i >= 0; i-- {
		if turns[i].Role == conversation.RoleUser {
			return repliesFor(turns[i].Content), nil
		}
	}
	for _, part := range strings.Split(c.Request().Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag, _, _ = strings.Cut(strings.ToLower(tag), "-")
		if r, ok := canned[tag]; ok {
			return r, nil
		}
	}
	return canned["en"], nil
}

func validateHandoffText(field, v string, maxRunes int) error {
	switch {
	case !utf8.ValidString(v):
		return &InputError{Msg: `"` + field + `" must be valid UTF-8`}
	case utf8.RuneCountInString(v) > maxRunes:
		return &InputError{Msg: `"` + field + `" is too long (at most ` + strconv.Itoa(maxRunes) + ` characters)`}
	case strings.ContainsFunc(v, unicode.IsControl):
		return &InputError{Msg: `"` + field + `" must be one line of text`}
	}
	return nil
}

// validContact accepts an e-mail address or a phone number.
func validContact(v string) bool {
	if strings.Contains(v, "@") {
		a, err := mail.ParseAddress(v)
		return err == nil && a.Address == v
	}
	digits := 0
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '.', r == '/':
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 20
}

// createHandoff hands the conversation to a person with its transcript
// and, for a verified customer, the profile (both go to the support team's
// notification).
func (s *Server) createHandoff(ctx context.Context, convID, customerID, reason, contact string) (handoff.Handoff, bool, error) {
	transcript, err := s.transcript(ctx, convID)
	if err != nil {
		return handoff.Handoff{}, false, err
	}
	return s.cfg.Handoffs.Create(ctx, handoff.New{ConversationID: convID, CustomerID: customerID, Reason: reason,
		Contact: contact, Transcript: transcript, Profile: s.profileMap(ctx, customerID)})
}

// openHandoff hands the conversation to a person when the chat itself
// decided to (ChatResponse.Handoff). It is called after the exchange was
// stored; a failure is logged, never shown to the visitor, who got the
// handoff answer already.
func (s *Server) openHandoff(ctx context.Context, convID, customerID, reason string) {
	if s.cfg.Handoffs == nil || s.conv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	h, created, err := s.createHandoff(ctx, convID, customerID, reason, "")
	if err != nil {
		s.log.Error("handoff failed", "conversation", convID, "err", err)
		return
	}
	if created {
		s.log.Info("handoff opened", "handoff", h.ID, "conversation", convID, "reason", reason)
	}
}

// agentOwned answers a chat message in a conversation that a person owns
// (its handoff is assigned): the message is stored for the agent and the
// visitor gets an empty answer with HandoffReason ReasonAgent; the model is
// not called. owned is false when the bot should answer.
func (s *Server) agentOwned(ctx context.Context, convID string, known bool, question, customerID string, verified bool, onToken func(string) error) (resp ChatResponse, owned bool, err error) {
	if !known || s.cfg.Handoffs == nil || s.conv == nil {
		return ChatResponse{}, false, nil
	}
	h, ok, err := s.cfg.Handoffs.Latest(ctx, convID)
	if err != nil {
		return ChatResponse{}, false, err
	}
	if !ok || h.Status != handoff.StatusAssigned {
		return ChatResponse{}, false, nil
	}
	if err := s.conv.Append(ctx, convID, conversation.RoleUser, question); err != nil {
		return ChatResponse{}, false, err
	}
	if verified {
		if err := s.conv.SetCustomer(ctx, convID, customerID); err != nil {
			return ChatResponse{}, false, err
		}
	}
	if err := onToken(""); err != nil {
		return ChatResponse{}, false, err
	}
	s.log.Info("chat held for the agent", "conversation", convID, "handoff", h.ID)
	return ChatResponse{Mode: s.mode(), Sources: []Source{}, ConversationID: convID, Handoff: true, HandoffReason: ReasonAgent}, true, nil
}

// transcript is the conversation's turns and the agents' messages, in order.
func (s *Server) transcript(ctx context.Context, convID string) ([]handoff.Message, error) {
	turns, err := s.conv.Recent(ctx, convID, maxTranscript)
	if err != nil {
		return nil, err
	}
	out := make([]handoff.Message, 0, len(turns))
	for _, t := range turns {
		out = append(out, handoff.Message{Role: t.Role, Content: t.Content, At: t.At})
	}
	agent, err := s.cfg.Handoffs.Messages(ctx, convID, 0, maxTranscript)
	if err != nil {
		return nil, err
	}
	if len(agent) > 0 {
		out = append(out, agent...)
		sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	}
	return out, nil
}

// profileMap is a verified customer's profile as name → value (nil: none).
func (s *Server) profileMap(ctx context.Context, customerID string) map[string]string {
	fields := s.profile(ctx, customerID, customerID != "")
	if len(fields) == 0 {
		return nil
	}
	m := make(map[string]string, len(fields))
	for _, f := range fields {
		m[f.Name] = f.Value
	}
	return m
}

// AgentMessages is what the widget polls while a conversation is handed off.
type AgentMessages struct {
	Status   string            `json:"status"` // the handoff's status; "" if never handed off
	Messages []handoff.Message `json:"messages"`
}

// handleAgentMessages: GET /api/conversations/{id}/messages?after=SEQ,
// the agents' messages after SEQ (0: all).
func (s *Server) handleAgentMessages(c echo.Context) error {
	id, err := s.knownConversation(c)
	if err != nil {
		return err
	}
	var after int64
	if v := c.QueryParam("after"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			return &InputError{Msg: `"after" must be a message number (0 or more)`}
		}
	}
	ctx := c.Request().Context()
	out := AgentMessages{Messages: []handoff.Message{}}
	h, ok, err := s.cfg.Handoffs.Latest(ctx, id)
	if err != nil {
		return err
	}
	if ok {
		out.Status = h.Status
		if out.Messages, err = s.cfg.Handoffs.Messages(ctx, id, after, 100); err != nil {
			return err
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// handleListHandoffs: GET /api/admin/handoffs?status=open|assigned|closed.
func (s *Server) handleListHandoffs(c echo.Context) error {
	if s.cfg.Handoffs == nil {
		return errHandoffOff
	}
	status := c.QueryParam("status")
	switch status {
	case "", handoff.StatusOpen, handoff.StatusAssigned, handoff.StatusClosed:
	default:
		return errBadHandoffStatus
	}
	list, err := s.cfg.Handoffs.List(c.Request().Context(), status, 200)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"handoffs": list})
}

// HandoffDetail is a handoff with its transcript and the customer's profile.
type HandoffDetail struct {
	handoff.Handoff
	Transcript []handoff.Message `json:"transcript"`
	Profile    map[string]string `json:"profile"`
}

func (s *Server) handoffParam(c echo.Context) (handoff.Handoff, error) {
	if s.cfg.Handoffs == nil || s.conv == nil {
		return handoff.Handoff{}, errHandoffOff
	}
	h, err := s.cfg.Handoffs.Get(c.Request().Context(), c.Param("id"))
	if errors.Is(err, handoff.ErrNotFound) {
		return handoff.Handoff{}, errNoHandoff
	}
	return h, err
}

// handleGetHandoff: GET /api/admin/handoffs/{id}.
func (s *Server) handleGetHandoff(c echo.Context) error {
	h, err := s.handoffParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	tr, err := s.transcript(ctx, h.ConversationID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, HandoffDetail{Handoff: h, Transcript: tr, Profile: s.profileMap(ctx, h.CustomerID)})
}

// handleReply: POST /api/admin/handoffs/{id}/reply {"text": str}. The
// handoff becomes assigned: the bot stays silent in the conversation.
func (s *Server) handleReply(c echo.Context) error {
	h, err := s.handoffParam(c)
	if err != nil {
		return err
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := decodeJSON(c, &body, `{"text": "..."}`); err != nil {
		return err
	}
	text := strings.TrimSpace(body.Text)
	switch {
	case text == "":
		return &InputError{Msg: `"text" must not be empty`}
	case !utf8.ValidString(text):
		return &InputError{Msg: `"text" must be valid UTF-8`}
	case utf8.RuneCountInString(text) > handoff.MaxMessageRunes:
		return &InputError{Msg: "\"text\" is too long (at most " + strconv.Itoa(handoff.MaxMessageRunes) + " characters)"}
	}
	m, err := s.cfg.Handoffs.Reply(c.Request().Context(), h.ID, text)
	switch {
	case errors.Is(err, handoff.ErrClosed):
		return errHandoffClosed
	case errors.Is(err, handoff.ErrNotFound):
		return errNoHandoff
	case err != nil:
		return err
	}
	s.log.Info("agent replied", "handoff", h.ID, "conversation", h.ConversationID)
	return c.JSON(http.StatusCreated, m)
}

// handleEndHandoff: POST /api/admin/handoffs/{id}/close or /handback; the
// bot answers the conversation again.
func (s *Server) handleEndHandoff(resolution string) echo.HandlerFunc {
	return func(c echo.Context) error {
		h, err := s.handoffParam(c)
		if err != nil {
			return err
		}
		h, err = s.cfg.Handoffs.End(c.Request().Context(), h.ID, resolution)
		switch {
		case errors.Is(err, handoff.ErrClosed):
			return errHandoffClosed
		case errors.Is(err, handoff.ErrNotFound):
			return errNoHandoff
		case err != nil:
			return err
		}
		s.log.Info("handoff ended", "handoff", h.ID, "conversation", h.ConversationID, "resolution", resolution)
		return c.JSON(http.StatusOK, h)
	}
}
