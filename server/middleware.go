package server

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/labstack/echo/v4"
)

// recoverPanics turns a handler's panic into a 500 (logged with its stack).
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic", "method", c.Request().Method, "path", c.Request().URL.Path,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("server: panic: %v", r)
			}
		}()
		return next(c)
	}
}

// corsPaths are the endpoints a browser calls from the site's pages.
var corsPaths = map[string]bool{"/api/chat": true, "/widget.js": true, "/widget.css": true}

// cors lets pages of the allowed origins (Config.AllowOrigins; empty: any)
// call the chat and load the widget, and answers their preflight requests.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if !corsPaths[req.URL.Path] && !visitorPath(req.URL.Path) {
			return next(c)
		}
		h := c.Response().Header()
		h.Add("Vary", "Origin")
		origin := req.Header.Get("Origin")
		allowed := origin != "" && s.originAllowed(origin)
		if allowed {
			if len(s.cfg.AllowOrigins) == 0 {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
		}
		if req.Method != http.MethodOptions || req.Header.Get("Access-Control-Request-Method") == "" {
			return next(c)
		}
		// Preflight.
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		if allowed {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Accept")
			h.Set("Access-Control-Max-Age", "3600")
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// originAllowed matches origin against AllowOrigins: "*", an exact origin
// ("https://www.example.com"), or a subdomain wildcard ("https://*.example.com").
func (s *Server) originAllowed(origin string) bool {
	if len(s.cfg.AllowOrigins) == 0 {
		return true
	}
	origin = strings.ToLower(strings.TrimRight(origin, "/"))
	for _, o := range s.cfg.AllowOrigins {
		o = strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
		switch {
		case o == "*" || o == origin:
			return true
		case strings.Contains(o, "://*."):
			scheme, domain, _ := strings.Cut(o, "://*.")
			rest, ok := strings.CutPrefix(origin, scheme+"://")
			if ok && strings.HasSuffix(rest, "."+domain) && !strings.ContainsAny(rest, "/@") {
				return true
			}
		}
	}
	return false
}
