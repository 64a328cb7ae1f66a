package embedded

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	ctx := context.Background()
	ix, path := openTest(t)
	add(t, ix, billing)
	require.NoError(t, ix.Check(ctx))

	// Break the page's chunk count behind the index's back.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE pages SET chunks = chunks + 1`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	err = ix.Check(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "chunk count")
}
