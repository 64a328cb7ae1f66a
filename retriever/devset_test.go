package retriever

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
		t.Cleanup(srv.Close)
		// The product's path: the real crawler over the fixture, each page
		// through Indexer.Add.
		in := indexer.New(ix)
		chunks := 0
		rep, err := crawler.New(crawler.Options{Concurrency: 8, PerHostConcurrency: 8}).Crawl(ctx, srv.URL+"/",
			func(ctx context.Context, p crawler.Page) error {
				_, n, err := in.Add(ctx, p)
				chunks += n
				return err
			})
		require.NoError(t, err)
		t.Logf("%s: %d pages, %d chunks, crawled in %s", name, rep.Pages, chunks, rep.Duration)
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
