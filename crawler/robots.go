package crawler

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// robots is a parsed robots.txt (RFC 9309).
type robots struct {
	groups   []robotsGroup
	sitemaps []string
}

type robotsGroup struct {
	agents []string // lower-cased product tokens, "*" for any
	rules  []robotsRule
	delay  time.Duration // Crawl-delay, 0 when the group has none
}

type robotsRule struct {
	allow   bool
	pattern string // percent-encoded path pattern, may hold '*' and a final '$'
}

// allowAll is the robots.txt of a site that has none (4xx).
var allowAll = &robots{}

// parseRobots reads a robots.txt body. It is lenient: unknown lines are
// ignored, lines may end in LF, CRLF or CR, and a leading BOM is skipped.
func parseRobots(body string) *robots {
	r := &robots{}
	body = strings.TrimPrefix(body, "\ufeff")
	var cur *robotsGroup
	inAgents := false // the previous significant line was a user-agent line
	for line := range strings.FieldsFuncSeq(body, func(c rune) bool { return c == '\n' || c == '\r' }) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			// Tolerate a missing colon ("disallow /"), as major crawlers do.
			f := strings.Fields(line)
			if len(f) != 2 {
				continue
			}
			key, value = f[0], f[1]
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		switch key {
		case "user-agent":
			agent := strings.ToLower(value)
			if f := strings.Fields(agent); len(f) > 0 {
				agent = f[0]
			}
			if !inAgents {
				r.groups = append(r.groups, robotsGroup{})
				cur = &r.groups[len(r.groups)-1]
				inAgents = true
			}
			cur.agents = append(cur.agents, agent)
		case "allow", "disallow":
			inAgents = false
			if cur == nil || value == "" {
				continue // a rule outside any group, or an empty rule: matches nothing
			}
			cur.rules = append(cur.rules, robotsRule{allow: key == "allow", pattern: encodePattern(value)})
		case "crawl-delay":
			// Not in RFC 9309, but widely written: seconds, maybe fractional.
			inAgents = false
			if cur == nil {
				continue
			}
			if f, err := strconv.ParseFloat(value, 64); err == nil && f > 0 && !math.IsInf(f, 0) {
				d := time.Duration(math.Min(f, 24*3600) * float64(time.Second))
				cur.delay = max(cur.delay, d)
			}
		case "sitemap":
			if value != "" {
				r.sitemaps = append(r.sitemaps, value)
			}
		}
	}
	return r
}

// encodePattern percent-encodes the bytes of a rule that a URL would carry
// escaped (non-ASCII, spaces, controls), so it compares with escaped paths.
func encodePattern(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return canonicalEscapes(b.String())
}

// Allowed reports whether agent (a product token such as "sitebot") may
// fetch the URL. The rules of the groups naming the agent apply, else those
// of "*", else none; the longest matching rule wins, allow wins ties.
func (r *robots) Allowed(agent, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	p := canonicalEscapes(u.EscapedPath())
	if p == "" {
		p = "/"
	}
	if p == "/robots.txt" {
		return true // RFC 9309 §2.2.2: implicitly allowed
	}
	if u.RawQuery != "" || u.ForceQuery {
		p += "?" + u.RawQuery
	}
	return r.allowedPath(agent, p)
}

// groupsFor returns the groups that apply to agent: those naming it, else
// those of "*".
func (r *robots) groupsFor(agent string) []robotsGroup {
	agent = strings.ToLower(agent)
	var named, any []robotsGroup
	for _, g := range r.groups {
		for _, a := range g.agents {
			if a == agent {
				named = append(named, g)
				break
			}
		}
		for _, a := range g.agents {
			if a == "*" {
				any = append(any, g)
				break
			}
		}
	}
	if len(named) > 0 {
		return named
	}
	return any
}

// crawlDelay returns the Crawl-delay of the groups that apply to agent
// (the largest when several set one), 0 when none does.
func (r *robots) crawlDelay(agent string) time.Duration {
	var d time.Duration
	for _, g := range r.groupsFor(agent) {
		d = max(d, g.delay)
	}
	return d
}

func (r *robots) allowedPath(agent, p string) bool {
	var rules []robotsRule
	for _, g := range r.groupsFor(agent) {
		rules = append(rules, g.rules...)
	}
	best, allowed := -1, true
	for _, rule := range rules {
		if !matchPattern(rule.pattern, p) {
			continue
		}
		n := len(rule.pattern)
		if n > best || (n == best && rule.allow) {
			best, allowed = n, rule.allow
		}
	}
	return allowed
}

// matchPattern reports whether a robots.txt path pattern matches the start
// of p. '*' matches any run of characters; a final '$' anchors the end.
func matchPattern(pattern, p string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	if anchored {
		pattern = pattern[:len(pattern)-1]
	}
	parts := strings.Split(pattern, "*")
	// The first part must be a prefix.
	if !strings.HasPrefix(p, parts[0]) {
		return false
	}
	pos := len(parts[0])
	if len(parts) == 1 {
		return !anchored || pos == len(p)
	}
	for i, part := range parts[1:] {
		last := i == len(parts)-2
		if last && anchored {
			// The last part must end the path, after pos.
			return len(p)-pos >= len(part) && strings.HasSuffix(p, part)
		}
		j := strings.Index(p[pos:], part)
		if j < 0 {
			return false
		}
		pos += j + len(part)
	}
	return true
}

// agentToken is the product token of a User-Agent string
// ("sitebot/0.1 (+https://...)" -> "sitebot").
func agentToken(ua string) string {
	tok := ua
	if i := strings.IndexAny(tok, "/ ;("); i >= 0 {
		tok = tok[:i]
	}
	tok = strings.ToLower(strings.TrimSpace(tok))
	if tok == "" {
		return "sitebot"
	}
	return tok
}
