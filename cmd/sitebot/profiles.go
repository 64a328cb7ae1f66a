package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/profile"
)

// maxImportErrors is how many bad rows an import lists before "and N more".
const maxImportErrors = 20

func profilesFlags(fs *flag.FlagSet, c *Config) {
	dataFlag(fs, c)
}

// runProfiles is 'sitebot profiles import FILE': JSONL (one object per
// line with "id" or "customer_id" and the fields) or CSV (a header row
// with an id or customer_id column), by the file's extension (.csv, else
// JSONL). Every row is imported in one transaction, or none when any row
// is bad.
func runProfiles(ctx context.Context, e *env, args []string) error {
	if len(args) != 2 || args[0] != "import" {
		return errUsage
	}
	if e.cfg.DataDir == "" {
		return errors.New("--data (SITEBOT_DATA) must not be empty")
	}
	file := args[1]
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("profiles import: %w", err)
	}
	defer f.Close()
	read := profile.ReadJSONL
	if strings.EqualFold(filepath.Ext(file), ".csv") {
		read = profile.ReadCSV
	}
	recs, bad, err := read(f)
	if err != nil {
		return fmt.Errorf("profiles import %s: %w", file, err)
	}
	if len(bad) > 0 {
		for i, b := range bad {
			if i == maxImportErrors {
				fmt.Fprintf(e.stderr, "%s: ... and %d more bad rows\n", file, len(bad)-i)
				break
			}
			fmt.Fprintf(e.stderr, "%s:%d: %v\n", file, b.Line, b.Err)
		}
		return fmt.Errorf("profiles import %s: %d bad rows (of %d): nothing imported", file, len(bad), len(bad)+len(recs))
	}
	if err := os.MkdirAll(e.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("profiles import: %w", err)
	}
	store, err := profile.Open(ctx, e.cfg.dbPath())
	if err != nil {
		return err
	}
	defer store.Close()
	created, updated, err := store.PutAll(ctx, recs)
	if err != nil {
		return fmt.Errorf("profiles import %s: nothing imported: %w", file, err)
	}
	total, err := store.Count(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %d profiles from %s: %d new, %d updated (%d profiles in %s)\n",
		len(recs), file, created, updated, total, e.cfg.dbPath())
	return nil
}

// keepConversations purges the conversations older than maxAge now and
// then every interval until ctx is done (--retention; 0 keeps them all).
func keepConversations(ctx context.Context, conv *conversation.Store, maxAge, interval time.Duration, log *slog.Logger) {
	if maxAge <= 0 {
		return
	}
	purge := func() {
		n, err := conv.PurgeBefore(ctx, time.Now().Add(-maxAge))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("purging old conversations failed", "err", err)
		case n > 0:
			log.Info("old conversations purged", "conversations", n, "retention", maxAge)
		}
	}
	purge()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			purge()
		}
	}
}
