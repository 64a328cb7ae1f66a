package embedded

import (
	"context"
	"fmt"
)

// Check verifies that the index file is whole and consistent: SQLite's own
// integrity check, the full-text index's, and that every page's chunk count
// matches the chunks stored for it and every chunk has its full-text row.
// A crash in the middle of a write must leave an index that passes.
func (ix *Index) Check(ctx context.Context) error {
	var res string
	if err := ix.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("embedded: check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("embedded: check: integrity: %s", res)
	}
	// FTS5's own check compares its index with its rows; it is a write
	// statement in form only, so it runs on the write connection.
	if _, err := ix.w.ExecContext(ctx, `INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		return fmt.Errorf("embedded: check: full-text index: %w", err)
	}
	var bad int
	err := ix.r.QueryRowContext(ctx, `SELECT count(*) FROM pages p
		WHERE p.chunks != (SELECT count(*) FROM chunks c WHERE c.page_url = p.url)`).Scan(&bad)
	if err != nil {
		return fmt.Errorf("embedded: check: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("embedded: check: %d pages whose chunk count does not match their chunks", bad)
	}
	var orphans, chunks, rows int
	err = ix.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.url = c.page_url)),
		(SELECT count(*) FROM chunks),
		(SELECT count(*) FROM chunks_fts)`).Scan(&orphans, &chunks, &rows)
	if err != nil {
		return fmt.Errorf("embedded: check: %w", err)
	}
	if orphans > 0 {
		return fmt.Errorf("embedded: check: %d chunks without their page", orphans)
	}
	if chunks != rows {
		return fmt.Errorf("embedded: check: %d chunks but %d full-text rows", chunks, rows)
	}
	return nil
}
