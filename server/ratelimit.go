package server

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// DefaultRateLimit is how many chat requests one client IP may make per
// minute (with a burst of a third of that) when Config.RateLimit is 0.
const DefaultRateLimit = 60

// visitorPath reports whether path is an endpoint visitors' browsers call,
// which the rate limit and CORS apply to.
func visitorPath(path string) bool {
	return path == "/api/chat" || strings.HasPrefix(path, "/api/conversations/")
}

// rateLimit limits the visitor endpoints per client IP. The IP comes from
// echo's IPExtractor, set in ipExtractor: the connection's address unless
// the operator named trusted proxies, so a forged X-Forwarded-For cannot
// dodge the limit (echo advisory GHSA-246p-cpwv-v3jq).
func (s *Server) rateLimit() echo.MiddlewareFunc {
	perMinute := s.cfg.RateLimit
	if perMinute == 0 {
		perMinute = DefaultRateLimit
	}
	if perMinute < 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(perMinute / 60),
		Burst:     max(1, int(perMinute/3)),
		ExpiresIn: 5 * time.Minute,
	})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool {
			return c.Request().Method == http.MethodOptions || !visitorPath(c.Request().URL.Path)
		},
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "10")
			return echo.NewHTTPError(http.StatusTooManyRequests, "too many messages: wait a few seconds and try again")
		},
		ErrorHandler: func(c echo.Context, err error) error {
			return echo.NewHTTPError(http.StatusForbidden, "cannot tell who is asking")
		},
	})
}

// ipExtractor reads the client IP from the connection, or, behind the
// operator's trusted proxies, from X-Forwarded-For as they set it.
func (s *Server) ipExtractor() echo.IPExtractor {
	if len(s.cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range s.cfg.TrustedProxies {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
