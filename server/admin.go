package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sitebot/sitebot/indexer"
)

// CrawlFunc re-crawls the site at url into the index. The one cmd wires for
// the admin API refuses internal addresses unless the operator allowed them.
type CrawlFunc func(ctx context.Context, url string) (indexer.Stats, error)

// crawlJob is the state of the admin API's crawl: one at a time.
type crawlJob struct {
	mu       sync.Mutex
	running  bool
	status   CrawlStatus
	stop     context.CancelFunc
	finished chan struct{}
}

// CrawlStatus is what GET /api/admin/crawl reports.
type CrawlStatus struct {
	Running    bool           `json:"running"`
	URL        string         `json:"url,omitempty"`
	StartedAt  *time.Time     `json:"started_at,omitempty"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	Stats      *indexer.Stats `json:"stats,omitempty"`
	Error      string         `json:"error,omitempty"`
}

// requireAdmin lets through requests that carry the admin key as a bearer
// token, compared in constant time; without a configured key the admin API
// is off.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.AdminKey == "" {
			return echo.NewHTTPError(http.StatusForbidden, "the admin API is off: start sitebot with --admin-key")
		}
		token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.cfg.AdminKey)) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="sitebot admin"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "missing or wrong admin key (Authorization: Bearer KEY)")
		}
		return next(c)
	}
}

// handleStartCrawl starts a crawl of {"url": "..."} in the background and
// answers 202; GET /api/admin/crawl follows it.
func (s *Server) handleStartCrawl(c echo.Context) error {
	if s.cfg.Crawl == nil {
		return echo.NewHTTPError(http.StatusNotImplemented, "crawling is not available on this server")
	}
	var body struct {
		URL string `json:"url"`
	}
	if err := decodeJSON(c, &body, `{"url": "https://www.example.com/"}`); err != nil {
		return err
	}
	u, err := url.Parse(strings.TrimSpace(body.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &InputError{Msg: `"url" must be an http or https URL`}
	}

	j := &s.crawl
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.running {
		return echo.NewHTTPError(http.StatusConflict, "a crawl is already running")
	}
	ctx, cancel := context.WithCancel(s.life)
	now := time.Now().UTC()
	j.running, j.stop, j.finished = true, cancel, make(chan struct{})
	j.status = CrawlStatus{Running: true, URL: u.String(), StartedAt: &now}
	go s.runCrawl(ctx, u.String(), j.finished)
	s.log.Info("admin crawl started", "url", u.String())
	return c.JSON(http.StatusAccepted, j.status)
}

func (s *Server) runCrawl(ctx context.Context, url string, finished chan struct{}) {
	defer close(finished)
	st, err := s.cfg.Crawl(ctx, url)
	j := &s.crawl
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now().UTC()
	j.running = false
	j.stop()
	j.status.Running, j.status.FinishedAt = false, &now
	if err != nil {
		// The operator asked for this crawl: the reason is theirs to see.
		j.status.Error = err.Error()
		s.log.Warn("admin crawl failed", "url", url, "err", err)
		return
	}
	j.status.Stats = &st
	s.log.Info("admin crawl finished", "url", url, "pages", st.Pages, "new", st.New,
		"changed", st.Changed, "removed", st.Removed, "seconds", st.Seconds)
}

func (s *Server) handleCrawlStatus(c echo.Context) error {
	j := &s.crawl
	j.mu.Lock()
	defer j.mu.Unlock()
	return c.JSON(http.StatusOK, j.status)
}

// stopCrawl cancels a running admin crawl and waits for it, for shutdown.
func (s *Server) stopCrawl() {
	j := &s.crawl
	j.mu.Lock()
	running, stop, finished := j.running, j.stop, j.finished
	j.mu.Unlock()
	if running {
		stop()
		<-finished
	}
}
