// Package testenv finds the real dependencies that integration tests use
// (an Ollama server, Chromium, the shared fixtures) and skips a test that
// lacks one, or fails it when CI=true, where every dependency must be present.
package testenv

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Missing skips the test with reason, or fails it when running in CI.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s", reason)
	}
	t.Skip(reason)
}

// Shared returns the absolute path of a file or folder under ../shared
// (the project's read-only test material), e.g. Shared(t, "fixtures/sites/plausible").
func Shared(t testing.TB, rel string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := os.Getenv("SITEBOT_SHARED")
	if dir == "" {
		dir = filepath.Join(root, "..", "shared")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		Missing(t, "shared test material not found at "+p+" (set SITEBOT_SHARED)")
	}
	return p
}

// Ollama returns the base URL and model name of a real Ollama server for
// integration tests, from SITEBOT_TEST_OLLAMA (default http://127.0.0.1:11434)
// and SITEBOT_TEST_MODEL (default "tiny", the stories260K model that .ci/run
// creates). It skips (or fails in CI) when the server does not answer.
func Ollama(t testing.TB) (baseURL, model string) {
	t.Helper()
	baseURL = os.Getenv("SITEBOT_TEST_OLLAMA")
	if baseURL == "" {
		baseURL = "http://127.0.0.1:11434"
	}
	model = os.Getenv("SITEBOT_TEST_MODEL")
	if model == "" {
		model = "tiny"
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(baseURL + "/api/version")
	if err != nil {
		Missing(t, "no Ollama server at "+baseURL+" (run .ci/run, or set SITEBOT_TEST_OLLAMA): "+err.Error())
		return "", ""
	}
	resp.Body.Close()
	return baseURL, model
}

// Chromium returns the path of a Chromium binary for real-browser tests,
// from SITEBOT_TEST_CHROMIUM or the PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SITEBOT_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "no Chromium found (apt-get install chromium, or set SITEBOT_TEST_CHROMIUM)")
	return ""
}
