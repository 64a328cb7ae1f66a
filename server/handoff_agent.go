package server

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The agent inbox at /agent: a static page and its script. The page holds
// no data; the script asks for the admin key once (kept in sessionStorage)
// and calls the admin API with it, showing everything as text.
var (
	//go:embed handoff_agent.html
	agentHTML []byte
	//go:embed handoff_agent.js
	agentJS []byte
)

// agentCSP allows the page's own script and API calls, nothing else.
const agentCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; " +
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) handleAgentPage(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", agentCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", agentHTML)
}

func agentScript(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", agentJS)
}
