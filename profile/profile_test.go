package profile

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/llm"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sitebot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestFields(t *testing.T) {
	doc := `{"zeta": "last", "plan": "Business", "orders": [{"id": "#1042", "status": "shipped", "date": "2026-11-02"},
		{"id": "#1038", "status": "delivered"}], "id": "cust-1", "email": "ada@example.com", "name": "Ada  Lovelace",
		"vip": true, "seats": 12, "note": null, "empty": "", "address": {"city": "Berlin", "zip": "10115"},
		"tags": ["a", "b"], "language": "de"}`
	got, err := Fields([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, []llm.ProfileField{
		{Name: "name", Value: "Ada Lovelace"},
		{Name: "email", Value: "ada@example.com"},
		{Name: "language", Value: "de"},
		{Name: "plan", Value: "Business"},
		{Name: "address", Value: "Berlin 10115"},
		{Name: "orders", Value: "#1042 shipped 2026-11-02; #1038 delivered"},
		{Name: "seats", Value: "12"},
		{Name: "tags", Value: "a; b"},
		{Name: "vip", Value: "yes"},
		{Name: "zeta", Value: "last"},
	}, got)

	_, err = Fields([]byte(`["not", "an", "object"]`))
	assert.ErrorIs(t, err, ErrNotObject)
}

func TestPutGetDelete(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	created, err := s.Put(ctx, "cust-1", []byte(` {"name": "Ada", "plan": "Business"} `))
	require.NoError(t, err)
	assert.True(t, created)
	created, err = s.Put(ctx, "cust-1", []byte(`{"name": "Ada", "plan": "Enterprise"}`))
	require.NoError(t, err)
	assert.False(t, created)

	doc, ok, err := s.Get(ctx, "cust-1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.JSONEq(t, `{"name": "Ada", "plan": "Enterprise"}`, string(doc))

	fields, ok, err := s.Profile(ctx, "cust-1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, []llm.ProfileField{{Name: "name", Value: "Ada"}, {Name: "plan", Value: "Enterprise"}}, fields)

	_, ok, err = s.Profile(ctx, "cust-2")
	require.NoError(t, err)
	assert.False(t, ok)

	for _, bad := range []string{`[1]`, `"x"`, `{"a":`, ``, `null`} {
		_, err := s.Put(ctx, "cust-3", []byte(bad))
		assert.ErrorIs(t, err, ErrNotObject, bad)
	}
	_, err = s.Put(ctx, "bad\nid", []byte(`{}`))
	assert.ErrorIs(t, err, ErrInvalidID)
	_, err = s.Put(ctx, "big", []byte(`{"a":"`+strings.Repeat("x", MaxDocBytes)+`"}`))
	assert.ErrorIs(t, err, ErrTooLarge)

	deleted, err := s.Delete(ctx, "cust-1")
	require.NoError(t, err)
	assert.True(t, deleted)
	deleted, err = s.Delete(ctx, "cust-1")
	require.NoError(t, err)
	assert.False(t, deleted)
	_, ok, err = s.Get(ctx, "cust-1")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, s.Checkpoint(ctx))
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"cust-1": true, "a": true, "ü@example.com": true, strings.Repeat("x", 256): true,
		"": false, strings.Repeat("x", 257): false, "a\x00b": false, "tab\tid": false, "\xff": false,
	} {
		assert.Equal(t, want, ValidID(id), "%q", id)
	}
}

func TestReadJSONL(t *testing.T) {
	in := "{\"id\": \"c1\", \"name\": \"Ada\"}\n\n" +
		"{\"customer_id\": 42, \"plan\": \"Pro\"}\n" +
		"not json\n" +
		"{\"name\": \"no id\"}\n" +
		"[1, 2]\n" +
		"{\"id\": \"c1\", \"name\": \"again\"}\n"
	recs, bad, err := ReadJSONL(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "c1", recs[0].ID)
	assert.Equal(t, "42", recs[1].ID)
	var lines []int
	for _, b := range bad {
		lines = append(lines, b.Line)
	}
	assert.Equal(t, []int{4, 5, 6, 7}, lines)
}

func TestReadCSV(t *testing.T) {
	in := "name,customer_id,plan,email\n" +
		"Ada,c1,Business,ada@example.com\n" +
		"\"Bob, Jr.\",c2,,bob@example.com\n" +
		"short,row\n" +
		"Eve,,Pro,eve@example.com\n"
	recs, bad, err := ReadCSV(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, "c2", recs[1].ID)
	assert.JSONEq(t, `{"name": "Bob, Jr.", "email": "bob@example.com"}`, string(recs[1].Doc))
	require.Len(t, bad, 2)
	assert.Equal(t, 4, bad[0].Line)
	assert.Equal(t, 5, bad[1].Line)

	_, _, err = ReadCSV(strings.NewReader("name,plan\nAda,Pro\n"))
	assert.ErrorContains(t, err, "customer_id")
}

// TestPutAllIsAllOrNothing: one bad record leaves the store as it was.
func TestPutAllIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	_, _, err := s.PutAll(ctx, []Record{{ID: "c1", Doc: []byte(`{"a": 1}`)}, {ID: "c2", Doc: []byte(`[]`)}})
	require.Error(t, err)
	n, err := s.Count(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	created, updated, err := s.PutAll(ctx, []Record{{ID: "c1", Doc: []byte(`{"a": 1}`)}, {ID: "c2", Doc: []byte(`{}`)}})
	require.NoError(t, err)
	assert.Equal(t, [2]int{2, 0}, [2]int{created, updated})
}
