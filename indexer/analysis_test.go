package indexer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/crawler"
)

// Inflected forms of one word stem alike in their language, documents and
// questions alike.
func TestAnalyzeDocStemsPerLanguage(t *testing.T) {
	tests := []struct {
		lang string
		a, b string // two forms of one word
	}{
		{"en", "invoices", "invoice"},
		{"en", "Cancelled", "cancel"},
		{"en", "creating", "create"},
		{"en", "customer's", "customer"},
		{"en-GB", "subscriptions", "subscription"},
		{"de", "Rechnungen", "Rechnung"},
		{"de", "Größe", "grösse"},
		{"de", "Straße", "Strasse"},
		{"fr", "factures", "facture"},
		{"fr", "l'adresse", "adresses"},
		{"es", "facturas", "factura"},
		{"es", "Contraseñas", "contraseña"},
		{"fi", "laskut", "lasku"},
		{"fi", "laskun", "lasku"},
		{"fi", "palveluita", "palvelu"},
		{"ru", "счета", "счёт"},
		{"ru", "сертификаты", "сертификат"},
		{"ru", "Ёлка", "елка"},
		{"sv", "fakturor", "faktura"},
		{"sv", "fakturorna", "faktura"},
		{"it", "fatture", "fattura"},
		{"pt", "faturas", "fatura"},
		{"nl", "facturen", "factuur"},
		{"da", "fakturaer", "faktura"},
		{"nb", "kontoer", "konto"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.a, func(t *testing.T) {
			a, b := AnalyzeDoc(tt.a, tt.lang), AnalyzeDoc(tt.b, tt.lang)
			require.Len(t, a, 1)
			assert.Equal(t, b, a)
			// A question finds the document's form, whichever it was written in.
			q := AnalyzeQuery(tt.b, []string{tt.lang})
			require.Len(t, q, 1)
			assert.Contains(t, q[0].Alts, a[0])
		})
	}
}

func TestAnalyzeDoc(t *testing.T) {
	tests := []struct {
		name, text, lang string
		want             []string
	}{
		{"empty", "", "en", nil},
		{"stop words kept in documents", "How do I cancel the plans?", "en", []string{"how", "do", "i", "cancel", "the", "plan"}},
		{"unknown language, short: not stemmed", "Invoices and plans", "", []string{"invoices", "and", "plans"}},
		{"unstemmed language", "Faktury i plany", "pl", []string{"faktury", "i", "plany"}},
		{"accents folded after stemming", "Ödeme café", "tr", []string{"odeme", "cafe"}},
		{"english apostrophes", "Don't lose the customer's keys", "en", []string{"dont", "lose", "the", "custom", "key"}},
		{"french elision", "Qu'est-ce que l'adresse d'un compte ?", "fr", []string{"est", "ce", "que", "adress", "un", "compt"}},
		{"italian elision", "dell'account", "it", []string{"account"}},
		{"typographic apostrophe", "l’adresse", "fr", []string{"adress"}},
		{"apostrophe at word edges", "'quoted' rock'n'roll'", "", []string{"quoted", "rocknroll"}},
		{"cyrillic", "Сколько стоят услуги?", "ru", []string{"скольк", "сто", "услуг"}},
		{"cjk bigrams, latin in between", "東京でSSL証明書", "ja", []string{"東京", "京で", "ssl", "証明", "明書"}},
		{"hangul words", "인증서 갱신", "ko", []string{"인증서", "갱신"}},
		{"devanagari marks kept", "प्रमाणपत्र", "hi", []string{"प्रमाणपत्र"}},
		{"digits", "Enable 2FA in v2.1", "en", []string{"enabl", "2fa", "in", "v2", "1"}},
		{"fts syntax is only words", `"foo" OR bar* NEAR(a b) -c ^d col:x`, "en", []string{"foo", "or", "bar", "near", "a", "b", "c", "d", "col", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, AnalyzeDoc(tt.text, tt.lang))
		})
	}
}

// A document of unknown language is stemmed in the language detected in
// it when it is long enough.
func TestAnalyzeDocDetectsLanguage(t *testing.T) {
	text := "Sie können Ihre Rechnungen jederzeit in den Kontoeinstellungen herunterladen. " +
		"Jede Rechnung wird außerdem nach der Zahlung automatisch per E-Mail an die Adresse Ihres Kontos gesendet."
	assert.Equal(t, "de", DocLang(text, ""))
	assert.Contains(t, AnalyzeDoc(text, ""), "rechnung")
	assert.NotContains(t, AnalyzeDoc(text, ""), "rechnungen")
	assert.Equal(t, "", DocLang("Rechnungen", ""), "too short to detect")
	assert.Equal(t, "", DocLang(text, "pl"), "a known language is not second-guessed")
	assert.Equal(t, "no", DocLang("", "nb-NO"))

	c := Chunk{Title: "Rechnungen", Text: text}
	title, _, _ := AnalyzeChunk(c)
	assert.Equal(t, []string{"rechnung"}, title, "the title is analysed in the chunk's language")
}

func TestAnalyzeQuery(t *testing.T) {
	words := func(ts []Term) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Word)
		}
		return out
	}
	tests := []struct {
		q     string
		langs []string
		want  []string
	}{
		{"How do I cancel my subscription?", []string{"en"}, []string{"cancel", "subscription"}},
		{"What's the weather in Paris?", nil, []string{"weather", "paris"}},
		{"what is it", nil, nil},
		{"Wie kann ich meine Rechnung herunterladen?", []string{"de"}, []string{"rechnung", "herunterladen"}},
		{"Où est l'adresse de facturation ?", []string{"fr"}, []string{"adresse", "facturation"}},
		{"¿Cómo descargo mis facturas?", []string{"es"}, []string{"descargo", "facturas"}},
		{"Miten saan laskut?", []string{"fi"}, []string{"saan", "laskut"}},
		{"Где мои счета?", []string{"ru"}, []string{"счета"}},
		{"Var hittar jag mina fakturor?", []string{"sv"}, []string{"hittar", "fakturor"}},
		{"invoice invoice INVOICE", nil, []string{"invoice"}},
		{"I don't know", nil, []string{"know"}},
		{`"; DROP TABLE chunks; --`, nil, []string{"drop", "table", "chunks"}},
		{"日本語", nil, []string{"日本", "本語"}},
		{"中", nil, []string{"中"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			assert.Equal(t, tt.want, words(AnalyzeQuery(tt.q, tt.langs)))
		})
	}

	// Alternatives: the word itself, then its stem in each candidate language.
	q := AnalyzeQuery("Rechnungen", []string{"en", "de", "de-AT"})
	require.Len(t, q, 1)
	assert.Equal(t, []string{"rechnungen", "rechnung"}, q[0].Alts)
	// No language, or an unknown one among them: every stemmed language.
	for _, langs := range [][]string{nil, {"en", ""}, {"pl"}} {
		q = AnalyzeQuery("laskut", langs)
		require.Len(t, q, 1)
		assert.Contains(t, q[0].Alts, "lasku", "%q", langs)
	}
	q = AnalyzeQuery("laskut", []string{"en"})
	assert.NotContains(t, q[0].Alts, "lasku")

	// AnalyzeQueryWords keeps every word.
	assert.Equal(t, []string{"how", "do", "i", "cancel"}, words(AnalyzeQueryWords("How do I cancel?", []string{"en"})))
}

// Every term is letters, marks and digits only, whatever the input: the
// backends' query syntax never sees anything else.
func TestAnalysisEmitsOnlyWordRunes(t *testing.T) {
	inputs := []string{
		`"foo" OR bar* NEAR(a b) -c ^d {col}: x'`, "rowid = 1; DROP TABLE chunks; --", `" - ' *`,
		"it''s ''' l'' qu'", "\x00\xff\xfe invalid utf8 \xc3", strings.Repeat("ab'", 50), "a\u0301\u0301\u0301",
		"ＦＵＬＬＷＩＤＴＨ　ｗｏｒｄｓ", "🙂 emoji 🙂", "ǅ ǈ ǋ", "İIıi",
	}
	for _, in := range inputs {
		var terms []string
		for _, lang := range append(StemmedLanguages(), "", "ja") {
			terms = append(terms, AnalyzeDoc(in, lang)...)
		}
		for _, qt := range AnalyzeQueryWords(in, nil) {
			terms = append(terms, qt.Alts...)
		}
		for _, term := range terms {
			assert.NotEmpty(t, term)
			for _, r := range term {
				assert.True(t, isWordRune(r), "%q in %q from %q", r, term, in)
			}
		}
	}
}

func TestStopWords(t *testing.T) {
	for _, w := range []string{"the", "The", "don't", "don’t", "für", "fur", "и", "että", "och", "où", "qu", "cómo"} {
		assert.True(t, IsStopWord(w), w)
	}
	for _, w := range []string{"id", "invoice", "rechnung", "war", "die2"} {
		assert.False(t, IsStopWord(w), w)
	}
}

func TestTermID(t *testing.T) {
	assert.Equal(t, uint32(2166136261), TermID(""), "FNV-1a offset basis")
	assert.Equal(t, uint32(0xe40c292c), TermID("a"))
	assert.NotEqual(t, TermID("invoic"), TermID("invoice"))
}

// An index built with another analyzer is re-indexed by the next crawl;
// until then the Indexer rewrites every page it is given.
func TestAnalyzerVersion(t *testing.T) {
	ctx := context.Background()
	page := crawler.Page{URL: "https://example.com/a", Title: "A", Lang: "en", Hash: "h1",
		Sections: []crawler.Section{{Heading: "Invoices", Text: "Download invoices."}}}

	// A new index records the version with its first page.
	m := newMemStore()
	require.NoError(t, CheckAnalyzer(ctx, m), "an empty index matches any version")
	ix := New(m)
	ch, _, err := ix.Add(ctx, page)
	require.NoError(t, err)
	assert.Equal(t, Added, ch)
	assert.Equal(t, strconv.Itoa(AnalyzerVersion), m.meta[AnalyzerMetaKey])
	require.NoError(t, CheckAnalyzer(ctx, m))
	ch, _, err = New(m).Add(ctx, page)
	require.NoError(t, err)
	assert.Equal(t, Unchanged, ch)

	// An index of version 1 (no meta key): a clear error, and an unchanged
	// page is rewritten.
	delete(m.meta, AnalyzerMetaKey)
	err = CheckAnalyzer(ctx, m)
	require.ErrorIs(t, err, ErrAnalyzerMismatch)
	assert.Contains(t, err.Error(), "index built with analyzer v1")
	assert.Contains(t, err.Error(), "sitebot crawl")
	ix = New(m)
	ch, _, err = ix.Add(ctx, page)
	require.NoError(t, err)
	assert.Equal(t, Changed, ch, "rewritten with the new analysis")
	ch, _, err = ix.Add(ctx, page)
	require.NoError(t, err)
	assert.Equal(t, Changed, ch, "still stale until a complete crawl says otherwise")
	require.Error(t, CheckAnalyzer(ctx, m))

	m.meta[AnalyzerMetaKey] = "999"
	assert.ErrorContains(t, CheckAnalyzer(ctx, m), "analyzer v999")
}

// A crawl into an index of another analyzer fetches every page without
// conditional requests, rewrites it, and then records the new version.
func TestCrawlReindexesStaleAnalyzer(t *testing.T) {
	var conditional atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintf(w, `<html lang="en"><head><title>Billing %s</title></head><body><main><h1>Invoices</h1><p>Download your invoices from %s.</p><a href="/b">b</a></main></body></html>`, r.URL.Path, r.URL.Path)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()

	m := newMemStore()
	st, _, err := New(m).Crawl(ctx, crawler.Options{}, srv.URL+"/")
	require.NoError(t, err)
	require.Equal(t, 2, st.New)
	st, _, err = New(m).Crawl(ctx, crawler.Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.Equal(t, 2, st.Unchanged)
	assert.Equal(t, int32(2), conditional.Load(), "a current index asks whether pages changed")

	m.meta[AnalyzerMetaKey] = "1"
	conditional.Store(0)
	st, _, err = New(m).Crawl(ctx, crawler.Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.Equal(t, 2, st.Changed, "every page rewritten")
	assert.Zero(t, conditional.Load(), "no conditional requests")
	require.NoError(t, CheckAnalyzer(ctx, m))
	assert.Equal(t, strconv.Itoa(AnalyzerVersion), m.meta[AnalyzerMetaKey])
}
