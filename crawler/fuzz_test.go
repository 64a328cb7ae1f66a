package crawler

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// robotsSeeds adds the shared robots.txt cases to a fuzz corpus, when the
// fixtures are there (the fuzz targets run without them too).
func robotsSeeds(f *testing.F, add func(body, agent, path string)) {
	file, err := os.Open(filepath.Join("..", "..", "shared", "fixtures", "attacks", "robots", "robots_cases.jsonl"))
	if err != nil {
		return
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c struct{ Robots, Agent, URL string }
		if json.Unmarshal(sc.Bytes(), &c) != nil {
			continue
		}
		if u, err := url.Parse(c.URL); err == nil {
			add(c.Robots, c.Agent, u.RequestURI())
		}
	}
}

func FuzzParseRobots(f *testing.F) {
	f.Add("User-agent: *\nDisallow: /private/\nAllow: /private/press/\nCrawl-delay: 2\n", "sitebot", "/private/x")
	f.Add("user-agent FooBot\ndisallow /\n", "FooBot", "/x/y")
	f.Add("User-agent: *\nDisallow: /*.pdf$\nDisallow: /tmp/*/cache\n", "anybot", "/tmp/a/b/cache?x=1")
	f.Add("\ufeffUser-agent: *\r\nDisallow: /\r\n", "a", "/robots.txt")
	f.Add("User-agent: *\nDisallow: /%E3%83%84\nDisallow: /a b\n", "x", "/%e3%83%84")
	f.Add("User-agent: *\nDisallow: *$\nDisallow: $\nDisallow: ***\n", "x", "/")
	robotsSeeds(f, func(body, agent, path string) { f.Add(body, agent, path) })
	f.Fuzz(func(t *testing.T, body, agent, path string) {
		r := parseRobots(body)
		_ = r.crawlDelay(agent)
		_ = r.Allowed(agent, "https://example.com"+path)
		_ = r.Allowed(agent, path)
		if !r.Allowed(agent, "https://example.com/robots.txt") {
			t.Fatalf("/robots.txt disallowed by\n%q", body)
		}
		if d := r.crawlDelay(agent); d < 0 {
			t.Fatalf("negative crawl delay %v", d)
		}
	})
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"HTTP://Example.com:80/a/?utm_source=x#top",
		"https://example.com/b?id=1&gclid=z",
		"https://example.com/a/./b/../c",
		"https://example.com/%7euser/%e3%83%84",
		"https://example.com/x?q=a+b&p=%2f",
		"http://[::1]:8080/a",
		"http://[fe80::1%25eth0]/",
		"https://user:pass@example.com./a/..",
		"http://example.com/a%2fb/../c",
		"http://example.com/?a=1&&b=%zz",
		"http://0x7f.1/",
		"https://example.com/%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n1, err := NormalizeURL(raw)
		if err != nil {
			return
		}
		u, err := url.Parse(n1)
		if err != nil {
			t.Fatalf("NormalizeURL(%q) = %q, which does not parse: %v", raw, n1, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !u.IsAbs() {
			t.Fatalf("NormalizeURL(%q) = %q, not an absolute http(s) URL", raw, n1)
		}
		n2, err := NormalizeURL(n1)
		if err != nil {
			t.Fatalf("NormalizeURL(%q) = %q, which does not normalise again: %v", raw, n1, err)
		}
		if n2 != n1 {
			t.Fatalf("not a fixed point: %q -> %q -> %q", raw, n1, n2)
		}
	})
}
