package server

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

// homePage lets the site owner try the widget right after `sitebot serve`,
// before pasting the snippet anywhere: same origin, so no CORS set-up.
var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>sitebot</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
pre{background:#f4f4f4;padding:.75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}</style>
</head><body>
<h1>sitebot is running</h1>
<p>Open the chat button at the bottom right of this page and ask a question about your site.</p>
<p>To show the same chat on your site, paste this before <code>&lt;/body&gt;</code> on its pages
(run <code>sitebot widget --server URL</code> for the address your visitors reach this server at):</p>
<pre>{{.Snippet}}</pre>
<script src="/widget.js" defer></script>
</body></html>
`))

func (s *Server) handleHome(c echo.Context) error {
	var buf bytes.Buffer
	err := homePage.Execute(&buf, struct{ Snippet string }{s.cfg.Snippet})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}
