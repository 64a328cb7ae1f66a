package crawler

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// extractFixture runs extract on the file dir/path as if fetched from
// http://127.0.0.1:8000/path.
func extractFixture(t testing.TB, dir, path string) Page {
	t.Helper()
	doc := parseFile(t, filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(path, "/"))))
	base, err := url.Parse("http://127.0.0.1:8000" + path)
	require.NoError(t, err)
	return extract(doc, base, http.Header{}, "sitebot").page
}

func parseFile(t testing.TB, name string) *goquery.Document {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	doc, err := goquery.NewDocumentFromReader(f)
	require.NoError(t, err)
	return doc
}

// TestExtractLetsEncryptFAQ: each <h2> question of the FAQ in every
// language is one FAQ with the manifest's anchor, answered by the text
// under it.
func TestExtractLetsEncryptFAQ(t *testing.T) {
	dir := testenv.Shared(t, "fixtures/sites/letsencrypt-faq")
	var m struct {
		Languages map[string]struct {
			URL         string `json:"url"`
			ContentLang string `json:"content_lang"`
			Questions   []struct {
				Question       string `json:"question"`
				Anchor         string `json:"anchor"`
				FirstParagraph string `json:"answer_first_paragraph"`
			} `json:"questions"`
		} `json:"languages"`
	}
	testenv.ReadManifest(t, dir, &m)
	require.Len(t, m.Languages, 4)
	for lang, l := range m.Languages {
		t.Run(lang, func(t *testing.T) {
			p := extractFixture(t, dir, l.URL)
			assert.Equal(t, lang, p.Lang)
			t.Logf("%s: %d FAQs for %d manifest questions", lang, len(p.FAQs), len(l.Questions))
			require.Len(t, p.FAQs, len(l.Questions), "one FAQ per question, nothing else")
			for i, q := range l.Questions {
				f := p.FAQs[i]
				assert.Equal(t, q.Question, f.Question)
				want, err := url.PathUnescape(q.Anchor)
				require.NoError(t, err)
				got, err := url.PathUnescape(f.Anchor)
				require.NoError(t, err)
				assert.Equal(t, want, got, q.Question)
				assert.True(t, strings.HasPrefix(f.Answer, q.FirstParagraph+"\n") || f.Answer == q.FirstParagraph,
					"%s: answer starts with the first paragraph; got %.200q", q.Question, f.Answer)
				// fi is untranslated: <html lang="fi"> around <div lang="en">.
				assert.Equal(t, relativeLang(l.ContentLang, lang), f.Lang, q.Question)
			}
		})
	}
}

// TestExtractPlausibleFAQPairs: the manifest's pairs, from JSON-LD, are
// found with their exact text, each once, with the anchor of the heading
// that asks the same question.
func TestExtractPlausibleFAQPairs(t *testing.T) {
	dir := testenv.Shared(t, "fixtures/sites/plausible")
	var m struct {
		Pages    []string `json:"pages"`
		FAQPairs []struct {
			URL      string `json:"url"`
			Question string `json:"question"`
			Answer   string `json:"answer"`
		} `json:"faq_pairs"`
	}
	testenv.ReadManifest(t, dir, &m)
	require.Len(t, m.FAQPairs, 22)
	pages := map[string]Page{}
	for _, path := range m.Pages {
		file := path
		if strings.HasSuffix(file, "/") {
			file += "index.html"
		}
		pages[path] = extractFixture(t, dir, file)
	}
	found := 0
	for _, pair := range m.FAQPairs {
		n := 0
		for _, f := range pages[pair.URL].FAQs {
			if f.Question == pair.Question {
				n++
				assert.Equal(t, pair.Answer, f.Answer, pair.Question)
			}
		}
		if assert.Equal(t, 1, n, "%s: FAQ %q", pair.URL, pair.Question) {
			found++
		}
	}
	// On the billing page the JSON-LD questions are also <h2> questions,
	// some worded differently: each is kept once, with the heading's anchor.
	billing := map[string]string{}
	for _, f := range pages["/docs/billing.html"].FAQs {
		billing[f.Question] = f.Anchor
	}
	assert.Equal(t, "is-the-billing-based-per-account-or-per-website", billing["Is billing based per account or per website?"])
	assert.Equal(t, "what-payment-methods-do-you-accept", billing["What payment methods does Plausible accept?"])
	assert.Equal(t, "how-do-i-get-an-invoice", billing["How do I get an invoice?"])
	assert.NotContains(t, billing, "Is the billing based per account or per website?")
	assert.NotContains(t, billing, "What payment methods do you accept?")
	assert.Len(t, billing, 14, "one FAQ per <h2> question")

	total, withFAQs := 0, 0
	for _, p := range pages {
		total += len(p.FAQs)
		if len(p.FAQs) > 0 {
			withFAQs++
		}
	}
	t.Logf("plausible: %d/%d manifest pairs found; %d FAQs on %d of %d pages", found, len(m.FAQPairs), total, withFAQs, len(pages))
}
