package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/sitebot/sitebot/eval"
	"github.com/sitebot/sitebot/server"
)

func evalFlags(fs *flag.FlagSet, c *Config) {
	indexFlags(fs, c)
	fs.BoolVar(&c.JSON, "json", c.JSON, "print the figures as one JSON object")
	fs.StringVar(&c.Site, "site", c.Site, `only the questions whose "site" is this`)
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "questions answered at the same time")
	modelFlags(fs, c)
}

func runEval(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	cfg := e.cfg
	if cfg.Concurrency < 1 {
		return fmt.Errorf("--concurrency (SITEBOT_CONCURRENCY) must be at least 1, got %d", cfg.Concurrency)
	}
	if _, err := cfg.OllamaURL(); err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("open question set: %w", err)
	}
	cases, err := eval.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if cfg.Site != "" {
		cases = filterSite(cases, cfg.Site)
		if len(cases) == 0 {
			return fmt.Errorf("%s has no questions with \"site\": %q", args[0], cfg.Site)
		}
	}

	a, err := openApp(ctx, e, newLogger(e.stderr, slog.LevelWarn), "")
	if err != nil {
		return err
	}
	defer a.Close()

	began := time.Now()
	progress := newProgress(e.stderr)
	report, err := eval.Run(ctx, cases, func(ctx context.Context, c eval.Case) (eval.Outcome, error) {
		return a.outcome(ctx, c.Question, cfg.LLMTimeout)
	}, cfg.Concurrency, func(done, total int) { progress.line(fmt.Sprintf("eval: %d/%d questions", done, total)) })
	progress.done()
	if err != nil {
		return err
	}
	if cfg.JSON {
		return json.NewEncoder(e.stdout).Encode(report)
	}
	printEval(e.stdout, report, len(cases), a.mode, time.Since(began))
	return nil
}

// outcome answers one question as a visitor would get it (a new
// conversation each time) and also records the retriever's own ranking.
func (a *app) outcome(ctx context.Context, question string, timeout time.Duration) (eval.Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := a.server.Answer(ctx, server.ChatRequest{Message: question}, nil)
	var inErr *server.InputError
	if errors.As(err, &inErr) {
		return eval.Outcome{Refused: true}, nil // e.g. a question over the length limit
	}
	if err != nil {
		return eval.Outcome{}, err
	}
	o := eval.Outcome{Refused: resp.Refused, Handoff: resp.Handoff}
	for _, s := range resp.Sources {
		o.Sources = append(o.Sources, s.URL)
	}
	res, err := a.retriever.Retrieve(ctx, question, 5)
	if err != nil {
		return eval.Outcome{}, err
	}
	for _, h := range res.Hits {
		o.Retrieved = append(o.Retrieved, h.URL)
	}
	return o, nil
}

func filterSite(cases []eval.Case, site string) []eval.Case {
	var out []eval.Case
	for _, c := range cases {
		if c.Site == site {
			out = append(out, c)
		}
	}
	return out
}

func printEval(w io.Writer, r eval.Report, n int, mode string, took time.Duration) {
	fmt.Fprintf(w, "%d questions, %s, in %.1fs\n\n", n, mode, took.Seconds())
	printStats(w, "", r.Stats)
	langs := make([]string, 0, len(r.ByLang))
	for l := range r.ByLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if len(langs) > 1 {
		for _, l := range langs {
			fmt.Fprintf(w, "\nlanguage %s:\n", l)
			printStats(w, "  ", r.ByLang[l])
		}
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(w, "\n%d questions went wrong; --json lists them under \"failures\".\n", len(r.Failures))
	}
}

func printStats(w io.Writer, indent string, s eval.Stats) {
	pct := func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
	if a := s.Answerable; a.N > 0 {
		fmt.Fprintf(w, "%sanswerable    n=%-4d recall@1 %s  recall@5 %s  MRR %.3f  answered %s  false handoffs %s\n",
			indent, a.N, pct(a.RecallAt1), pct(a.RecallAt5), a.MRR, pct(a.AnsweredRate), pct(a.HandoffRate))
		fmt.Fprintf(w, "%s  retrieval          recall@1 %s  recall@5 %s  MRR %.3f (before the scope gate)\n",
			indent, pct(a.RetrievedRecallAt1), pct(a.RetrievedRecallAt5), a.RetrievedMRR)
	}
	if o := s.OutOfScope; o.N > 0 {
		fmt.Fprintf(w, "%sout_of_scope  n=%-4d refused %s  false handoffs %s\n", indent, o.N, pct(o.RefusedRate), pct(o.HandoffRate))
	}
	if h := s.Handoff; h.N > 0 {
		fmt.Fprintf(w, "%shandoff       n=%-4d offered %s\n", indent, h.N, pct(h.OfferedRate))
	}
}
