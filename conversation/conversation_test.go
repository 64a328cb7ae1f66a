package conversation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dir with space", "sitebot.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		require.Len(t, id, 32)
		assert.True(t, ValidID(id), id)
		assert.False(t, seen[id], "duplicate id")
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", NewID() + "0", "zz" + NewID()[2:]} {
		assert.False(t, ValidID(bad), bad)
	}
}

func TestAppendRecent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a, b := NewID(), NewID()

	ok, err := s.Exists(ctx, a)
	require.NoError(t, err)
	assert.False(t, ok)

	for i := range 5 {
		require.NoError(t, s.Append(ctx, a, RoleUser, fmt.Sprintf("q%d", i)))
		require.NoError(t, s.Append(ctx, a, RoleAssistant, fmt.Sprintf("a%d", i)))
	}
	require.NoError(t, s.Append(ctx, b, RoleUser, "other"))

	ok, err = s.Exists(ctx, a)
	require.NoError(t, err)
	assert.True(t, ok)

	got, err := s.Recent(ctx, a, 3)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []string{"a3", "q4", "a4"}, contents(got))
	assert.Equal(t, RoleAssistant, got[0].Role)
	assert.Equal(t, RoleUser, got[1].Role)
	assert.False(t, got[0].At.IsZero())
	assert.False(t, got[2].At.Before(got[0].At))

	all, err := s.Recent(ctx, a, 100)
	require.NoError(t, err)
	assert.Len(t, all, 10)
	assert.Equal(t, "q0", all[0].Content)

	none, err := s.Recent(ctx, NewID(), 5)
	require.NoError(t, err)
	assert.Empty(t, none)
	none, err = s.Recent(ctx, a, 0)
	require.NoError(t, err)
	assert.Empty(t, none)

	assert.ErrorIs(t, s.Append(ctx, a, "system", "x"), ErrInvalidRole)
}

func TestPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	id := NewID()
	require.NoError(t, s.Append(ctx, id, RoleUser, "Hallo, wie kündige ich?"))
	require.NoError(t, s.Append(ctx, id, RoleAssistant, "Так: ✓"))
	require.NoError(t, s.SetCustomer(ctx, id, "cust-42"))
	require.NoError(t, s.Close())

	s2, err := Open(ctx, path)
	require.NoError(t, err)
	defer s2.Close()
	ok, err := s2.Exists(ctx, id)
	require.NoError(t, err)
	assert.True(t, ok)
	got, err := s2.Recent(ctx, id, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"Hallo, wie kündige ich?", "Так: ✓"}, contents(got))
	cust, err := s2.Customer(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "cust-42", cust)
	cust, err = s2.Customer(ctx, NewID())
	require.NoError(t, err)
	assert.Empty(t, cust)
}

func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id := NewID()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Append(ctx, id, RoleUser, fmt.Sprint(i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := s.Recent(ctx, id, 100)
	require.NoError(t, err)
	assert.Len(t, got, 40)
}

func contents(ts []Turn) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Content)
	}
	return out
}

func TestDeleteCustomer(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "sitebot.db"))
	require.NoError(t, err)
	defer s.Close()
	a1, a2, b, anon := NewID(), NewID(), NewID(), NewID()
	for _, id := range []string{a1, a2, b, anon} {
		require.NoError(t, s.Append(ctx, id, RoleUser, "hello "+id))
	}
	require.NoError(t, s.SetCustomer(ctx, a1, "cust-a"))
	require.NoError(t, s.SetCustomer(ctx, a2, "cust-a"))
	require.NoError(t, s.SetCustomer(ctx, b, "cust-b"))

	n, err := s.DeleteCustomer(ctx, "cust-a")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for id, want := range map[string]bool{a1: false, a2: false, b: true, anon: true} {
		ok, err := s.Exists(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, ok)
		turns, err := s.Recent(ctx, id, 10)
		require.NoError(t, err)
		assert.Equal(t, want, len(turns) == 1, "turns of %s", id)
	}
	_, err = s.DeleteCustomer(ctx, "")
	assert.Error(t, err)
}

func TestPurgeBefore(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "sitebot.db"))
	require.NoError(t, err)
	defer s.Close()
	old, fresh := NewID(), NewID()
	require.NoError(t, s.Append(ctx, old, RoleUser, "old question"))
	cut := time.Now()
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, s.Append(ctx, fresh, RoleUser, "new question"))

	n, err := s.PurgeBefore(ctx, cut)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ok, err := s.Exists(ctx, old)
	require.NoError(t, err)
	assert.False(t, ok)
	turns, err := s.Recent(ctx, old, 10)
	require.NoError(t, err)
	assert.Empty(t, turns)
	ok, err = s.Exists(ctx, fresh)
	require.NoError(t, err)
	assert.True(t, ok)
}
