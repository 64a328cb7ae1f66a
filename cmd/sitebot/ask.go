package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/sitebot/sitebot/server"
	"github.com/sitebot/sitebot/widget"
)

func runAsk(ctx context.Context, e *env, args []string) error {
	question := strings.TrimSpace(strings.Join(args, " "))
	if question == "" {
		return errUsage
	}
	if e.cfg.DataDir == "" {
		return errors.New("--data (SITEBOT_DATA) must not be empty")
	}
	if _, err := e.cfg.OllamaURL(); err != nil {
		return err
	}
	req := server.ChatRequest{Message: question}
	if id := strings.TrimSpace(e.cfg.Customer); id != "" {
		// The operator at the terminal is trusted: vouch for the customer
		// the way a company backend does, with a secret of this run only.
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		e.cfg.IdentitySecret = hex.EncodeToString(secret)
		mac := hmac.New(sha256.New, []byte(e.cfg.IdentitySecret))
		mac.Write([]byte(id))
		req.Customer = &server.Customer{ID: id, Token: hex.EncodeToString(mac.Sum(nil))}
	}
	a, err := openApp(ctx, e, newLogger(e.stderr, slog.LevelWarn), "")
	if err != nil {
		return err
	}
	defer a.Close()

	ctx, cancel := context.WithTimeout(ctx, e.cfg.LLMTimeout)
	defer cancel()
	resp, err := a.server.Answer(ctx, req, nil)
	if err != nil {
		return err
	}
	if e.cfg.JSON {
		return json.NewEncoder(e.stdout).Encode(resp)
	}
	fmt.Fprintln(e.stdout, resp.Answer)
	if len(resp.Sources) > 0 {
		fmt.Fprintln(e.stdout, "\nSources:")
		for _, s := range resp.Sources {
			fmt.Fprintf(e.stdout, "  %s (%s)\n", s.URL, s.Title)
		}
	}
	switch {
	case resp.Handoff:
		fmt.Fprintln(e.stdout, "\n[handoff: a person should take over]")
	case resp.Refused:
		fmt.Fprintln(e.stdout, "\n[refused: the site does not answer this]")
	}
	if resp.Mode == "extractive" {
		fmt.Fprintln(e.stdout, "[extractive: quoted from the site, no language model]")
	}
	return nil
}

func runPages(ctx context.Context, e *env, args []string) error {
	if len(args) != 0 {
		return errUsage
	}
	ix, err := openIndex(ctx, e.cfg, false)
	if err != nil {
		return err
	}
	defer ix.Close()
	pages, err := ix.Pages(ctx)
	if err != nil {
		return err
	}
	if e.cfg.JSON {
		if pages == nil {
			return json.NewEncoder(e.stdout).Encode([]struct{}{})
		}
		return json.NewEncoder(e.stdout).Encode(pages)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "URL\tTITLE\tLANG\tCHUNKS\tFAQS")
	for _, p := range pages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", p.URL, p.Title, p.Lang, p.Chunks, p.FAQs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d pages\n", len(pages))
	return nil
}

func runWidget(_ context.Context, e *env, args []string) error {
	if len(args) != 0 {
		return errUsage
	}
	snippet, err := widget.Snippet(e.cfg.Server)
	if err != nil {
		return fmt.Errorf("--server (SITEBOT_SERVER): %w", err)
	}
	fmt.Fprintln(e.stdout, snippet)
	return nil
}
