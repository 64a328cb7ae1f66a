package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// SiteManifest is the part of a fixture site's MANIFEST.json
// (../shared/fixtures/sites/*/MANIFEST.json) that tests check a crawl against.
type SiteManifest struct {
	Pages        []string          `json:"pages"`
	Titles       map[string]string `json:"titles"`
	MustNotIndex []struct {
		Path   string `json:"path"`
		Marker string `json:"marker"`
	} `json:"must_not_index"`
	URLVariants []struct {
		URL       string `json:"url"`
		Canonical string `json:"canonical"`
	} `json:"url_variants"`
	BrokenLinks []struct {
		URL string `json:"url"`
	} `json:"broken_links"`
	Assets []struct {
		URL string `json:"url"`
	} `json:"assets"`
	FAQPairs []struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
		URL      string `json:"url"`
	} `json:"faq_pairs"`
}

// ReadManifest decodes the MANIFEST.json of the fixture site in dir into v
// (a *SiteManifest, or a site-specific type).
func ReadManifest(t testing.TB, dir string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", filepath.Join(dir, "MANIFEST.json"), err)
	}
}
