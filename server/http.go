package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sitebot/sitebot/widget"
)

// bodyReadTimeout bounds the reading of a chat request's body (the server
// has no global ReadTimeout, which would also cut streaming answers).
const bodyReadTimeout = 30 * time.Second

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(io.Discard)
	e.IPExtractor = s.ipExtractor()
	e.HTTPErrorHandler = s.handleError

	e.Use(s.recoverPanics, s.logRequests, s.cors, s.rateLimit())
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("X-Content-Type-Options", "nosniff")
			return next(c)
		}
	})

	e.POST("/api/chat", s.handleChat)
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/widget.js", asset("widget.js", "text/javascript; charset=utf-8", widget.JS()))
	e.Match(get, "/widget.css", asset("widget.css", "text/css; charset=utf-8", widget.CSS()))
	e.Match(get, "/", s.handleHome)
	e.Match(get, "/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.Match(get, "/readyz", s.handleReady)

	admin := e.Group("/api/admin", s.requireAdmin)
	admin.POST("/crawl", s.handleStartCrawl)
	admin.GET("/crawl", s.handleCrawlStatus)
	s.handoffRoutes(e, admin)
	s.profileRoutes(admin)
	return e
}

// handleError is the only place that turns errors into HTTP answers: JSON
// {"error": "..."}, with no internals for 5xx (those go to the log).
func (s *Server) handleError(err error, c echo.Context) {
	req := c.Request()
	if c.Response().Committed {
		if !errors.Is(err, context.Canceled) {
			s.log.Warn("error after the response started", "path", req.URL.Path, "err", err)
		}
		return
	}
	code, msg := http.StatusInternalServerError, ""
	var he *echo.HTTPError
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		code, msg = http.StatusBadRequest, ie.Msg
	case errors.As(err, &he):
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		}
	case errors.Is(err, context.Canceled) && req.Context().Err() != nil:
		s.log.Info("client went away", "path", req.URL.Path)
		return
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusServiceUnavailable
	}
	if code >= 500 {
		s.log.Error("request failed", "method", req.Method, "path", req.URL.Path, "status", code, "err", err)
		msg = ""
	}
	if msg == "" || msg == http.StatusText(code) {
		msg = strings.ToLower(http.StatusText(code))
	}
	if req.Method == http.MethodHead {
		err = c.NoContent(code)
	} else {
		err = c.JSON(code, map[string]string{"error": msg})
	}
	if err != nil {
		s.log.Warn("writing error response failed", "path", req.URL.Path, "err", err)
	}
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // so that the status below is the one sent
		}
		req := c.Request()
		s.log.Debug("request", "method", req.Method, "path", req.URL.Path,
			"status", c.Response().Status, "bytes", c.Response().Size,
			"ip", c.RealIP(), "took", time.Since(start).Round(time.Microsecond))
		return nil
	}
}

func (s *Server) handleReady(c echo.Context) error {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(c.Request().Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "not ready"})
		}
	}
	return c.String(http.StatusOK, "ok")
}

// asset serves an embedded widget file with an ETag; a matching
// If-None-Match gets 304.
func asset(name, contentType string, body []byte) echo.HandlerFunc {
	etag := widget.ETag(name)
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=300, must-revalidate")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if etagMatch(c.Request().Header.Get("If-None-Match"), etag) {
			return c.NoContent(http.StatusNotModified)
		}
		if c.Request().Method == http.MethodHead {
			h.Set(echo.HeaderContentType, contentType)
			return c.NoContent(http.StatusOK)
		}
		return c.Blob(http.StatusOK, contentType, body)
	}
}

// etagMatch implements If-None-Match's weak comparison.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func (s *Server) handleChat(c echo.Context) error {
	req := c.Request()
	var chat ChatRequest
	if err := decodeJSON(c, &chat, `{"message": "..."}`); err != nil {
		return err
	}
	if wantsEventStream(req.Header.Get(echo.HeaderAccept)) {
		return s.streamChat(c, chat)
	}
	resp, err := s.Answer(req.Context(), chat, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

// decodeJSON reads the request body, which must be one JSON object of at
// most MaxBodyBytes with Content-Type application/json, into v. example
// shows the expected shape in the error a malformed body gets.
func decodeJSON(c echo.Context, v any, example string) error {
	req := c.Request()
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	rc := http.NewResponseController(c.Response().Writer)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)) // not every writer supports it (tests)
	body := http.MaxBytesReader(c.Response().Writer, req.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is too large (at most %d KiB)", MaxBodyBytes>>10))
		}
		return echo.NewHTTPError(http.StatusBadRequest, "request body must be a JSON object like "+example)
	}
	return nil
}

func wantsEventStream(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// streamChat answers as server-sent events: "token" events with the text
// as it comes, then one "done" event with the ChatResponse. The stream
// starts with the first event, so an error before it is an ordinary JSON
// error; an error after it is an "error" event.
func (s *Server) streamChat(c echo.Context, chat ChatRequest) error {
	w := &sseWriter{c: c}
	resp, err := s.Answer(c.Request().Context(), chat, func(text string) error {
		if text == "" {
			return nil
		}
		return w.send("token", struct {
			Text string `json:"text"`
		}{text})
	})
	if err != nil {
		if !w.started {
			return err
		}
		if c.Request().Context().Err() == nil {
			s.log.Error("chat failed after the stream started", "err", err)
			_ = w.send("error", map[string]string{"error": "the answer could not be completed, please try again"})
		}
		return nil
	}
	if err := w.send("done", resp); err != nil {
		s.log.Info("could not send the final event", "err", err)
	}
	return nil
}

type sseWriter struct {
	c       echo.Context
	started bool
	failed  error
}

func (w *sseWriter) send(event string, v any) error {
	if w.failed != nil {
		return w.failed
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("server: encode %s event: %w", event, err)
	}
	res := w.c.Response()
	if !w.started {
		w.started = true
		h := res.Header()
		h.Set(echo.HeaderContentType, "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		res.WriteHeader(http.StatusOK)
	}
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	if _, err := res.Write(b.Bytes()); err != nil {
		w.failed = fmt.Errorf("server: write %s event: %w", event, err)
		return w.failed
	}
	if err := http.NewResponseController(res.Writer).Flush(); err != nil {
		w.failed = fmt.Errorf("server: flush %s event: %w", event, err)
		return w.failed
	}
	return nil
}
