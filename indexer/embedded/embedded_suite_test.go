package embedded

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer/indextest"
)

// TestSuite runs the behaviour suite every index backend passes. Each
// subtest gets its own file, named after it, so that reopening finds the
// same index.
func TestSuite(t *testing.T) {
	dir := t.TempDir()
	indextest.Run(t, func(t *testing.T) indextest.Backend {
		path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".db")
		ix, err := Open(context.Background(), path)
		require.NoError(t, err)
		return hybridIndex{ix}
	})
}

// hybridIndex tells the suite that the embedded index stores dense vectors
// (every embedded index does; see dense.go), so its hybrid cases run.
type hybridIndex struct{ *Index }

func (hybridIndex) Hybrid() bool { return true }
