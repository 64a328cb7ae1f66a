package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one sitebot subcommand.
type command struct {
	name    string
	args    string // positional arguments, for the usage line
	summary string
	run     func(ctx context.Context, e *env, args []string) error
	flags   func(fs *flag.FlagSet, c *Config)
}

// env is what a command may touch outside itself.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	cfg    Config
}

var errUsage = errors.New("usage")

func commands() []command {
	return []command{
		{name: "crawl", args: "URL", summary: "crawl a website and index it into --data", run: runCrawl, flags: func(fs *flag.FlagSet, c *Config) { crawlFlags(fs, c); ollamaFlag(fs, c) }},
		{name: "serve", summary: "serve the chat API and the widget from the index in --data", run: runServe, flags: serveFlags},
		{name: "up", args: "URL", summary: "crawl URL, then serve", run: runUp, flags: func(fs *flag.FlagSet, c *Config) { crawlFlags(fs, c); serveOnlyFlags(fs, c) }},
		{name: "ask", args: "QUESTION", summary: "answer one question from the terminal", run: runAsk, flags: askFlags},
		{name: "eval", args: "FILE.jsonl", summary: "measure answers on a labelled question set", run: runEval, flags: evalFlags},
		{name: "pages", summary: "list the pages the index holds", run: runPages, flags: pagesFlags},
		{name: "profiles", args: "import FILE", summary: "import customer profiles from a JSONL or CSV file into --data", run: runProfiles, flags: profilesFlags},
		{name: "widget", summary: "print the <script> snippet to paste into your site", run: runWidget, flags: widgetFlags},
	}
}

// run is the whole program behind main: it parses args and env and runs one command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, getenv, stdout, stderr)
		}
		usage(stdout)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		return fmt.Errorf("unknown command %q: run 'sitebot help' to see the commands", args[0])
	}

	e := &env{getenv: getenv, stdout: stdout, stderr: stderr, cfg: defaultConfig()}
	fs := flag.NewFlagSet("sitebot "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cmd.flags(fs, &e.cfg)
	fs.Usage = func() {}
	if err := applyEnv(fs, getenv); err != nil {
		return err
	}
	pos, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, cmd, fs)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w (see 'sitebot %s --help')", cmd.name, err, cmd.name)
	}
	if e.cfg.ollama == "" {
		e.cfg.ollama = getenv("OLLAMA_HOST")
	}
	err = cmd.run(ctx, e, pos)
	if errors.Is(err, errUsage) {
		return fmt.Errorf("usage: sitebot %s %s [flags] (see 'sitebot %s --help')", cmd.name, cmd.args, cmd.name)
	}
	return err
}

// parseInterleaved parses flags that may come before or after the
// positional arguments, as DESIGN.md promises. Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return append(pos, rest...), nil
}

// applyEnv sets every flag from SITEBOT_<FLAG> when that variable is set;
// flags given on the command line override it.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

func envName(flagName string) string {
	return "SITEBOT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `sitebot answers your visitors' questions from your own website, on your own hardware.

Usage: sitebot <command> [flags] [arguments]

Commands:`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %-11s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, `
Every flag can also be set with the environment variable SITEBOT_<FLAG>
(for example SITEBOT_DATA, SITEBOT_ADMIN_KEY); --ollama falls back to OLLAMA_HOST.
Run 'sitebot <command> --help' for a command's flags.`)
}

func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: sitebot %s [flags] %s\n\n%s.\n\nFlags (each also read from SITEBOT_<FLAG>):\n", c.name, c.args, capitalize(c.summary))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
