package crawler

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRobotsAllowed(t *testing.T) {
	const site = `# robots.txt for example.com
User-agent: *
Disallow: /private/
Disallow: /*.pdf$
Allow: /private/press/

User-agent: sitebot
User-agent: otherbot
Disallow: /drafts
Allow: /drafts/public
Disallow: /search?
Disallow: /tmp/*/cache

Sitemap: https://example.com/sitemap.xml
Sitemap: https://example.com/news.xml.gz
`
	tests := []struct {
		agent, url string
		want       bool
	}{
		{"sitebot", "https://example.com/", true},
		{"sitebot", "https://example.com/private/x", true}, // sitebot's group replaces '*'
		{"SiteBot", "https://example.com/drafts", false},
		{"sitebot", "https://example.com/drafts/2026", false},
		{"sitebot", "https://example.com/drafts/public/a", true},
		{"sitebot", "https://example.com/search", true},
		{"sitebot", "https://example.com/search?q=x", false},
		{"sitebot", "https://example.com/tmp/a/b/cache/x", false},
		{"sitebot", "https://example.com/tmp/cache", true},
		{"sitebot", "https://example.com/robots.txt", true},
		{"otherbot", "https://example.com/drafts", false},
		{"anybot", "https://example.com/private/x", false},
		{"anybot", "https://example.com/private/press/release", true},
		{"anybot", "https://example.com/files/a.pdf", false},
		{"anybot", "https://example.com/files/a.pdf?dl=1", true},
		{"anybot", "https://example.com/drafts", true},
	}
	r := parseRobots(site)
	assert.Equal(t, []string{"https://example.com/sitemap.xml", "https://example.com/news.xml.gz"}, r.sitemaps)
	for _, tt := range tests {
		t.Run(tt.agent+" "+tt.url, func(t *testing.T) {
			assert.Equal(t, tt.want, r.Allowed(tt.agent, tt.url))
		})
	}
	assert.True(t, allowAll.Allowed("sitebot", "https://example.com/anything"))
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/", "/anything", true},
		{"/a", "/abc", true},
		{"/a$", "/a", true},
		{"/a$", "/ab", false},
		{"/*.php", "/x/y.php?z", true},
		{"/*.php$", "/x/y.php", true},
		{"/*.php$", "/x/y.php5", false},
		{"*", "/x", true},
		{"/a*b*c$", "/aXbYc", true},
		{"/a*b*c$", "/aXbYcZ", false},
		{"/a*c$", "/ac", true},
		{"/fish*", "/fish", true},
		{"/x/", "/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			assert.Equal(t, tt.want, matchPattern(tt.pattern, tt.path))
		})
	}
}

func TestAgentToken(t *testing.T) {
	assert.Equal(t, "sitebot", agentToken("sitebot/0.1"))
	assert.Equal(t, "sitebot", agentToken("SiteBot/1.0 (+https://example.com/bot)"))
	assert.Equal(t, "acme-crawler", agentToken("Acme-Crawler"))
	assert.Equal(t, "sitebot", agentToken(""))
}

// TestRobotsCases runs the shared RFC 9309 cases (adapted from
// google/robotstxt). Cases of scope "google" test that library's
// leniencies beyond the RFC and are left out.
func TestRobotsCases(t *testing.T) {
	path := testenv.Shared(t, "fixtures/attacks/robots/robots_cases.jsonl")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		var c struct {
			ID      int    `json:"id"`
			Robots  string `json:"robots"`
			Agent   string `json:"agent"`
			URL     string `json:"url"`
			Allowed bool   `json:"allowed"`
			Note    string `json:"note"`
			Scope   string `json:"scope"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c))
		if c.Scope != "rfc" && c.Scope != "rfc-only" {
			continue
		}
		n++
		t.Run(fmt.Sprintf("%d", c.ID), func(t *testing.T) {
			got := parseRobots(c.Robots).Allowed(c.Agent, c.URL)
			assert.Equal(t, c.Allowed, got, "%s\nrobots.txt:\n%s\nagent %s, url %s", c.Note, c.Robots, c.Agent, c.URL)
		})
	}
	require.NoError(t, sc.Err())
	require.Greater(t, n, 70, "the RFC cases were read")
}
