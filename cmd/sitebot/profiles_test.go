package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/profile"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func profileOf(t *testing.T, data, id string) (string, bool) {
	t.Helper()
	s, err := profile.Open(context.Background(), filepath.Join(data, "sitebot.db"))
	require.NoError(t, err)
	defer s.Close()
	doc, ok, err := s.Get(context.Background(), id)
	require.NoError(t, err)
	return string(doc), ok
}

func TestProfilesImport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")

	jsonl := writeFile(t, dir, "profiles.jsonl", `{"id": "c1", "name": "Ada", "plan": "Business", "orders": [{"id": "#1042", "status": "shipped"}]}
{"customer_id": "c2", "name": "Bob"}
`)
	out, _, err := sitebot(t, nil, "profiles", "import", jsonl, "--data", data)
	require.NoError(t, err)
	assert.Contains(t, out, "imported 2 profiles")
	assert.Contains(t, out, "2 new, 0 updated")
	doc, ok := profileOf(t, data, "c1")
	require.True(t, ok)
	assert.JSONEq(t, `{"id": "c1", "name": "Ada", "plan": "Business", "orders": [{"id": "#1042", "status": "shipped"}]}`, doc)

	csv := writeFile(t, dir, "profiles.csv", "customer_id,name,plan\nc2,Bob,Starter\nc3,\"Eve, Jr.\",Pro\n")
	out, _, err = sitebot(t, map[string]string{"SITEBOT_DATA": data}, "profiles", "import", csv)
	require.NoError(t, err)
	assert.Contains(t, out, "1 new, 1 updated (3 profiles")
	doc, _ = profileOf(t, data, "c3")
	assert.JSONEq(t, `{"name": "Eve, Jr.", "plan": "Pro"}`, doc)

	// Bad rows: each reported with its line, and nothing imported.
	bad := writeFile(t, dir, "bad.jsonl", `{"id": "c9", "name": "fine"}
{"name": "no id"}
not json
{"id": "c8", "name": "fine too"}
`)
	_, stderr, err := sitebot(t, nil, "profiles", "import", bad, "--data", data)
	require.ErrorContains(t, err, "2 bad rows (of 4): nothing imported")
	assert.Contains(t, stderr, "bad.jsonl:2: ")
	assert.Contains(t, stderr, "bad.jsonl:3: ")
	_, ok = profileOf(t, data, "c9")
	assert.False(t, ok, "no row of a file with bad rows is imported")

	badCSV := writeFile(t, dir, "bad.csv", "id,plan\nc9,Pro\nc10\n")
	_, stderr, err = sitebot(t, nil, "profiles", "import", badCSV, "--data", data)
	require.Error(t, err)
	assert.Contains(t, stderr, "bad.csv:3: ")

	_, _, err = sitebot(t, nil, "profiles", "import", "--data", data)
	assert.ErrorContains(t, err, "usage: sitebot profiles import FILE")
	_, _, err = sitebot(t, nil, "profiles", "import", filepath.Join(dir, "missing.jsonl"), "--data", data)
	assert.Error(t, err)
}

func TestRetentionPurges(t *testing.T) {
	ctx := context.Background()
	conv, err := conversation.Open(ctx, filepath.Join(t.TempDir(), "sitebot.db"))
	require.NoError(t, err)
	defer conv.Close()
	old := conversation.NewID()
	require.NoError(t, conv.Append(ctx, old, conversation.RoleUser, "old"))
	time.Sleep(60 * time.Millisecond)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var logs bytes.Buffer
	go func() {
		defer close(done)
		keepConversations(ctx, conv, 50*time.Millisecond, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	require.Eventually(t, func() bool {
		ok, err := conv.Exists(context.Background(), old)
		return err == nil && !ok
	}, 2*time.Second, 5*time.Millisecond, "purged at start")
	fresh := conversation.NewID()
	require.NoError(t, conv.Append(context.Background(), fresh, conversation.RoleUser, "new"))
	require.Eventually(t, func() bool {
		ok, err := conv.Exists(context.Background(), fresh)
		return err == nil && !ok
	}, 2*time.Second, 5*time.Millisecond, "purged again later")
	cancel()
	<-done
	assert.Contains(t, logs.String(), "old conversations purged")

	_, _, err = sitebot(t, nil, "serve", "--retention", "-1h", "--data", t.TempDir())
	assert.ErrorContains(t, err, "--retention")
}

// TestErasureThroughServe: a canary in a customer's profile and messages,
// sent to a real `sitebot serve`, is in no raw file under --data
// (sitebot.db, -wal, -shm, index.db) once the profile is deleted.
func TestErasureThroughServe(t *testing.T) {
	crawledData, _, _ := crawledPlausible(t)
	data := t.TempDir()
	ix, err := os.ReadFile(filepath.Join(crawledData, "index.db"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(data, "index.db"), ix, 0o600))

	const admin, secret = "admin-key", "identity-secret"
	base := startServe(t, map[string]string{"SITEBOT_ADMIN_KEY": admin, "SITEBOT_IDENTITY_SECRET": secret},
		"--data", data, "--model", "", "--retention", "720h")
	canary := "CANARY-7f3e9a1c"
	call := func(method, path, body string, auth bool) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer "+admin)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := call(http.MethodPut, "/api/admin/profiles/cust-1", `{"name": "Ada", "plan": "`+canary+`"}`, true)
	require.Equal(t, http.StatusCreated, code, body)
	code, _ = call(http.MethodPut, "/api/admin/profiles/cust-1", `{"name": "Ada"}`, false)
	require.Equal(t, http.StatusUnauthorized, code)

	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("cust-1"))
	customer := `"customer": {"id": "cust-1", "token": "` + hex.EncodeToString(mac.Sum(nil)) + `"}`
	code, body = call(http.MethodPost, "/api/chat", `{"message": "Which plan am I on?", `+customer+`}`, false)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, canary)
	code, body = call(http.MethodPost, "/api/chat", `{"message": "My code is `+canary+`: how do I add a goal?", `+customer+`}`, false)
	require.Equal(t, http.StatusOK, code, body)

	scan := func() int {
		n := 0
		for _, name := range []string{"sitebot.db", "sitebot.db-wal", "sitebot.db-shm", "index.db"} {
			b, err := os.ReadFile(filepath.Join(data, name))
			if os.IsNotExist(err) {
				continue
			}
			require.NoError(t, err)
			n += bytes.Count(b, []byte(canary))
		}
		return n
	}
	require.Positive(t, scan(), "the canary is on disk before the erasure")
	code, body = call(http.MethodDelete, "/api/admin/profiles/cust-1", "", true)
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"customer_id": "cust-1", "profile_deleted": true, "conversations_deleted": 2}`, body)
	assert.Zero(t, scan(), "0 occurrences of the canary in the raw files")
	code, _ = call(http.MethodGet, "/api/admin/profiles/cust-1", "", true)
	assert.Equal(t, http.StatusNotFound, code)
}

// TestServeFetchesProfilesFromTheBackend: with --profile-url, a verified
// visitor without a pushed profile is answered from the company backend's.
func TestServeFetchesProfilesFromTheBackend(t *testing.T) {
	data, _, _ := crawledPlausible(t)
	own := t.TempDir()
	require.NoError(t, os.CopyFS(own, os.DirFS(data)))
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/profiles/cust-42" {
			fmt.Fprint(w, `{"name": "Grace", "plan": "Enterprise Gold"}`)
			return
		}
		http.NotFound(w, r)
	}))
	defer crm.Close()
	base := startServe(t, nil, "--data", own, "--model", "", "--identity-secret", "s3cret", "--profile-url", crm.URL+"/profiles/{id}")

	ask := func(id, tok string) string {
		body := fmt.Sprintf(`{"message": "Which plan am I on?", "customer": {"id": %q, "token": %q}}`, id, tok)
		resp, err := http.Post(base+"/api/chat", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte("cust-42"))
	assert.Contains(t, ask("cust-42", hex.EncodeToString(mac.Sum(nil))), "Enterprise Gold")
	assert.NotContains(t, ask("cust-42", strings.Repeat("0", 64)), "Enterprise Gold", "a forged token gets no profile")
}

// TestAskAsCustomer: `ask --customer ID` answers with that customer's
// pushed profile; without it, the same question gets no profile.
func TestAskAsCustomer(t *testing.T) {
	data, _, _ := crawledPlausible(t)
	own := t.TempDir()
	require.NoError(t, os.CopyFS(own, os.DirFS(data)))
	file := filepath.Join(t.TempDir(), "p.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(`{"id": "cust-7", "name": "Lin", "plan": "Growth Annual"}`+"\n"), 0o644))
	_, _, err := sitebot(t, nil, "profiles", "import", file, "--data", own)
	require.NoError(t, err)

	out, _, err := sitebot(t, nil, "ask", "--data", own, "--model", "", "--customer", "cust-7", "Which plan am I on?")
	require.NoError(t, err)
	assert.Contains(t, out, "Growth Annual")
	out, _, err = sitebot(t, nil, "ask", "--data", own, "--model", "", "Which plan am I on?")
	require.NoError(t, err)
	assert.NotContains(t, out, "Growth Annual")
}
