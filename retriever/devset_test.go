package retriever

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/sitebot/sitebot/crawler"
	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/indexer/embedded"
	"github.com/sitebot/sitebot/internal/testenv"
)

type devQuestion struct {
	ID           string   `json:"id"`
	Question     string   `json:"question"`
	Lang         string   `json:"lang"`
	Label        string   `json:"label"`
	Site         string   `json:"site"`
	ExpectedURLs []string `json:"expected_urls"`
}

// TestDevSet indexes the fixture sites, asks every question of dev.jsonl and
// reports retrieval quality and the confidence distributions (go test -run
// TestDevSet -v). It checks loose floors so that a regression fails it; the
// numbers to tune against are in the log.
func TestDevSet(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes the fixture sites; skipped with -short")
	}
	ctx := context.Background()
	sites := map[string]*Retriever{}
	for _, name := range []string{"plausible", "letsencrypt-faq"} {
		dir := testenv.Shared(t, "fixtures/sites/"+name)
		ix, err := embedded.Open(ctx, filepath.Join(t.TempDir(), name+".db"))
		require.NoError(t, err)
		t.Cleanup(func() { ix.Close() })
		in := indexer.New(ix)
		chunks := 0
		for _, p := range loadFixtureSite(t, dir) {
			_, n, err := in.Add(ctx, p)
			require.NoError(t, err)
			chunks += n
		}
		t.Logf("%s: %d chunks", name, chunks)
		sites[name] = New(ix)
	}

	qs := readDevSet(t, testenv.Shared(t, "fixtures/eval/dev.jsonl"))
	type stats struct {
		n, at1, at5 int
		rr          float64
		conf        []float64
	}
	by := map[string]*stats{}
	var misses []string
	for _, q := range qs {
		r := sites[q.Site]
		require.NotNil(t, r, "unknown site %q", q.Site)
		res, err := r.Retrieve(ctx, q.Question, 5)
		require.NoError(t, err)
		s := by[q.Label]
		if s == nil {
			s = &stats{}
			by[q.Label] = s
		}
		s.n++
		s.conf = append(s.conf, res.Confidence)
		if q.Label != "answerable" {
			continue
		}
		rank := 0
		for i, h := range res.Hits {
			if matchesAny(h.URL, q.ExpectedURLs) {
				rank = i + 1
				break
			}
		}
		if rank == 1 {
			s.at1++
		}
		if rank >= 1 {
			s.at5++
			s.rr += 1 / float64(rank)
		} else {
			top := ""
			if len(res.Hits) > 0 {
				top = res.Hits[0].URL
			}
			misses = append(misses, fmt.Sprintf("%s %q (conf %.2f) top=%s", q.ID, q.Question, res.Confidence, top))
		}
	}

	a := by["answerable"]
	require.NotNil(t, a)
	r1, r5, mrr := float64(a.at1)/float64(a.n), float64(a.at5)/float64(a.n), a.rr/float64(a.n)
	t.Logf("answerable n=%d recall@1=%.3f recall@5=%.3f MRR=%.3f", a.n, r1, r5, mrr)
	for _, m := range misses {
		t.Logf("  miss: %s", m)
	}
	labels := make([]string, 0, len(by))
	for l := range by {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		c := by[l].conf
		sort.Float64s(c)
		above := 0
		for _, v := range c {
			if v >= DefaultMinConfidence {
				above++
			}
		}
		t.Logf("%-12s n=%3d confidence p10=%.2f p25=%.2f median=%.2f p75=%.2f p90=%.2f  >=%.2f: %.1f%%",
			l, len(c), quantile(c, .1), quantile(c, .25), quantile(c, .5), quantile(c, .75), quantile(c, .9),
			DefaultMinConfidence, 100*float64(above)/float64(len(c)))
	}
	t.Logf("AUC answerable vs out_of_scope: %.3f", auc(by["answerable"].conf, by["out_of_scope"].conf))
	for _, th := range []float64{0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7} {
		t.Logf("threshold %.2f: answerable kept %.1f%%, out_of_scope refused %.1f%%",
			th, 100*share(by["answerable"].conf, th, true), 100*share(by["out_of_scope"].conf, th, false))
	}

	// Floors well under today's figures: a regression, not noise, fails them.
	assert.GreaterOrEqual(t, r5, 0.6, "recall@5")
	assert.GreaterOrEqual(t, mrr, 0.5, "MRR")
}

// auc is the probability that a random positive scores above a random
// negative (ties count half).
func auc(pos, neg []float64) float64 {
	s := 0.0
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				s++
			case p == n:
				s += 0.5
			}
		}
	}
	return s / float64(len(pos)*len(neg))
}

// share is the fraction of cs at or above th (above) or below it (!above).
func share(cs []float64, th float64, above bool) float64 {
	n := 0
	for _, c := range cs {
		if (c >= th) == above {
			n++
		}
	}
	return float64(n) / float64(len(cs))
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1)+0.5)]
}

// matchesAny compares a hit URL with root-relative expected URLs as eval
// does: equal paths, and equal fragments when the expected URL has one, both
// percent-decoded.
func matchesAny(hitURL string, expected []string) bool {
	h, err := url.Parse(hitURL)
	if err != nil {
		return false
	}
	for _, e := range expected {
		u, err := url.Parse(e)
		if err != nil {
			continue
		}
		if u.Path == h.Path && (u.Fragment == "" || u.Fragment == h.Fragment) {
			return true
		}
	}
	return false
}

func readDevSet(t *testing.T, path string) []devQuestion {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var qs []devQuestion
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var q devQuestion
		require.NoError(t, json.Unmarshal(sc.Bytes(), &q))
		qs = append(qs, q)
	}
	require.NoError(t, sc.Err())
	return qs
}

// loadFixtureSite reads the pages a fixture's MANIFEST.json lists, with a
// deliberately small extractor (the crawler does the real job): the text of
// <article>, or else <main>, cut into sections at headings that keep their
// id. It lets this package measure retrieval without the crawler.
func loadFixtureSite(t *testing.T, dir string) []crawler.Page {
	var m struct {
		Pages []string `json:"pages"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	var pages []crawler.Page
	for _, p := range m.Pages {
		file := p
		if strings.HasSuffix(file, "/") {
			file += "index.html"
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(file)))
		require.NoError(t, err)
		doc, err := html.Parse(f)
		f.Close()
		require.NoError(t, err)
		page := extractPage(doc)
		page.URL = "http://fixture.test" + p
		pages = append(pages, page)
	}
	return pages
}

func extractPage(doc *html.Node) crawler.Page {
	var p crawler.Page
	var root *html.Node
	var find func(n *html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html:
				p.Lang = strings.ToLower(strings.SplitN(attr(n, "lang"), "-", 2)[0])
			case atom.Title:
				p.Title = textOf(n)
				for _, sep := range []string{" | ", " - "} {
					if i := strings.LastIndex(p.Title, sep); i > 0 {
						p.Title = p.Title[:i]
						break
					}
				}
			case atom.Article:
				root = n
			case atom.Main:
				if root == nil || root.DataAtom != atom.Article {
					root = n
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if root == nil {
		return p
	}

	var path []string
	var levels []int
	cur := crawler.Section{}
	var lines []string
	flush := func() {
		cur.Text = strings.Join(lines, "\n")
		if cur.Text != "" || cur.Heading != "" {
			p.Sections = append(p.Sections, cur)
		}
		lines = nil
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Nav, atom.Aside, atom.Footer, atom.Form, atom.Button:
			return
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			flush()
			level := int(n.Data[1] - '0')
			for len(levels) > 0 && levels[len(levels)-1] >= level {
				levels, path = levels[:len(levels)-1], path[:len(path)-1]
			}
			h := textOf(n)
			levels, path = append(levels, level), append(path, h)
			cur = crawler.Section{Anchor: attr(n, "id"), Heading: h, Path: append([]string(nil), path...), Level: level}
			return
		case atom.P, atom.Li, atom.Pre, atom.Tr, atom.Dt, atom.Dd, atom.Blockquote:
			if s := textOf(n); s != "" {
				lines = append(lines, s)
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	flush()
	return p
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		if n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style) {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
