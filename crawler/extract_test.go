package crawler

import (
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// extractFile runs extract on testdata/name as if fetched from base.
func extractFile(t *testing.T, name string, header http.Header) extracted {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	doc, err := goquery.NewDocumentFromReader(f)
	require.NoError(t, err)
	base, err := url.Parse("https://help.example.com/docs/" + name)
	require.NoError(t, err)
	if header == nil {
		header = http.Header{}
	}
	return extract(doc, base, header, "sitebot")
}

func allText(p Page) string {
	var b strings.Builder
	for _, s := range p.Sections {
		b.WriteString(s.Heading + "\n" + s.Text + "\n")
	}
	return b.String()
}

func TestExtractRemovesBoilerplate(t *testing.T) {
	ex := extractFile(t, "boilerplate.html", nil)
	text := allText(ex.page)
	for _, marker := range []string{
		"SCRIPT-TEXT", "COOKIE-TEXT", "HEADER-TEXT", "SIDEBAR-TEXT", "BREADCRUMB-TEXT", "TOC-TEXT",
		"HIDDEN-TEXT", "ARIA-HIDDEN-TEXT", "DISPLAY-NONE-TEXT", "NOSCRIPT-TEXT", "TEMPLATE-TEXT",
		"IFRAME-TEXT", "SVG-TEXT", "FORM-TEXT", "IMG-ALT-TEXT", "EDIT-TEXT", "DOC-FOOTER-TEXT",
		"PREV-TEXT", "NEXT-TEXT", "FOOTER-TEXT", "Skip to content",
	} {
		assert.NotContains(t, text, marker)
	}
	require.Len(t, ex.page.Sections, 1)
	s := ex.page.Sections[0]
	assert.Equal(t, Section{
		Anchor:  "reset",
		Heading: "Reset your password",
		Path:    []string{"Reset your password"},
		Level:   1,
		Text:    "Open the login page and click Forgot password.\nWe e-mail a link\nvalid for one hour.",
	}, s)
	assert.Equal(t, "Reset your password", ex.page.Title, "site suffix equal to og:site_name is dropped")
	assert.Equal(t, "en", ex.page.Lang)
	assert.Len(t, ex.page.Hash, 64)

	// Links come from the whole page, boilerplate included: navigation is
	// how a crawler finds pages.
	var links []string
	for _, l := range ex.links {
		links = append(links, l.url.String())
	}
	assert.Contains(t, links, "https://help.example.com/billing")
	assert.Contains(t, links, "https://help.example.com/2fa")
	assert.Contains(t, links, "https://github.com/acme/docs/edit/main/reset.md")
}

func TestExtractSections(t *testing.T) {
	ex := extractFile(t, "sections.html", nil)
	want := []Section{
		{Level: 0, Text: "Intro before any heading."},
		{Heading: "Einrichtung", Path: []string{"Einrichtung"}, Level: 1, Text: "Overview text spread over lines."},
		{Anchor: "install", Heading: "Install", Path: []string{"Einrichtung", "Install"}, Level: 2,
			Text: "- First step\n- Second step\n- Nested step"},
		{Anchor: "linux", Heading: "On Linux", Path: []string{"Einrichtung", "Install", "On Linux"}, Level: 3,
			Text: "apt-get install acme\nacme --init\nUse acme --help for more."},
		{Anchor: "windows", Heading: "On Windows", Path: []string{"Einrichtung", "Install", "On Windows"}, Level: 3,
			Text: "Version | Installer\n10 | MSI\n11 | MSIX"},
		{Anchor: "config", Heading: "Configure", Path: []string{"Einrichtung", "Configure"}, Level: 2,
			Text: "Keep the defaults.\nLoose text in a div."},
		{Anchor: "faq-anchor", Heading: "Questions", Path: []string{"Einrichtung", "Questions"}, Level: 2},
		{Heading: "Deep heading", Path: []string{"Einrichtung", "Questions", "Deep heading"}, Level: 4,
			Text: "Under h4.\nAfter an empty heading."},
	}
	assert.Equal(t, want, ex.page.Sections)
	assert.Equal(t, "Einrichtung", ex.page.Title, "suffix dropped: the first part equals the <h1>")
	assert.Equal(t, "de", ex.page.Lang)
}

func TestExtractRobotsAndCanonical(t *testing.T) {
	page := func(head string) *goquery.Document {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(
			"<html><head>" + head + "</head><body><main><p>Text</p><a href='/next' rel='nofollow'>n</a></main></body></html>"))
		require.NoError(t, err)
		return doc
	}
	base, _ := url.Parse("https://example.com/a/b.html")
	tests := []struct {
		name              string
		head              string
		header            http.Header
		noindex, nofollow bool
		canonical         string
	}{
		{name: "plain"},
		{name: "meta noindex", head: `<meta name="robots" content="noindex">`, noindex: true},
		{name: "meta case", head: `<meta name="ROBOTS" content="NoIndex, NoFollow">`, noindex: true, nofollow: true},
		{name: "meta none", head: `<meta name="robots" content="none">`, noindex: true, nofollow: true},
		{name: "meta for us", head: `<meta name="sitebot" content="nofollow">`, nofollow: true},
		{name: "meta for others", head: `<meta name="googlebot" content="noindex">`},
		{name: "header", header: http.Header{"X-Robots-Tag": {"noindex"}}, noindex: true},
		{name: "header for us", header: http.Header{"X-Robots-Tag": {"sitebot: nofollow"}}, nofollow: true},
		{name: "header for others", header: http.Header{"X-Robots-Tag": {"googlebot: noindex"}}},
		{name: "header directive with value", header: http.Header{"X-Robots-Tag": {"unavailable_after: 2030-01-01, noindex"}}, noindex: true},
		{name: "canonical", head: `<link rel="canonical" href="../c.html?utm_source=x#top">`, canonical: "https://example.com/c.html"},
		{name: "canonical with base", head: `<base href="/x/"><link rel="Canonical" href="y.html">`, canonical: "https://example.com/x/y.html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			ex := extract(page(tt.head), base, h, "sitebot")
			assert.Equal(t, tt.noindex, ex.noindex, "noindex")
			assert.Equal(t, tt.nofollow, ex.nofollow, "nofollow")
			if tt.canonical == "" {
				assert.Nil(t, ex.canonical)
			} else if assert.NotNil(t, ex.canonical) {
				assert.Equal(t, tt.canonical, ex.canonical.String())
			}
			require.Len(t, ex.links, 1)
			assert.True(t, ex.links[0].nofollow, "rel=nofollow is kept on the link")
		})
	}
}

func TestPageTitle(t *testing.T) {
	tests := []struct{ title, h1, site, want string }{
		{"Billing FAQ | Plausible docs", "Billing FAQ", "", "Billing FAQ"},
		{"Plausible docs", "Plausible Analytics documentation", "", "Plausible docs"},
		{"Frequently Asked Questions (FAQ) - Let's Encrypt", "Frequently Asked Questions (FAQ)", "", "Frequently Asked Questions (FAQ)"},
		{"Pricing – Acme", "Plans and prices", "Acme", "Pricing"},
		{"Acme | Pricing", "Pricing", "", "Pricing"},
		{"Acme · Pricing", "Other", "Acme", "Pricing"},
		{"Trial - paid - what changes", "Other heading", "", "Trial - paid - what changes"},
		{"", "Only a heading", "", "Only a heading"},
		{"A-B testing | Acme", "A-B testing", "", "A-B testing"},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			assert.Equal(t, tt.want, pageTitle(tt.title, tt.h1, tt.site))
		})
	}
}

func TestPrimaryTag(t *testing.T) {
	for in, want := range map[string]string{
		"en-US": "en", "FI": "fi", "ru_RU": "ru", " de ": "de", "": "", "x": "", "en-*": "en", "1234": "",
	} {
		assert.Equal(t, want, primaryTag(in), in)
	}
}

func TestWordsOf(t *testing.T) {
	assert.Equal(t, []string{"table", "of", "contents"}, wordsOf("tableOfContents"))
	assert.Equal(t, []string{"theme", "doc", "toc", "desktop"}, wordsOf("theme-doc-toc-desktop"))
	assert.Equal(t, []string{"skip", "to", "content"}, wordsOf("skipToContent"))
	assert.Equal(t, []string{"protocol"}, wordsOf("protocol"))
}

func TestPageHash(t *testing.T) {
	p := Page{Title: "T", Sections: []Section{{Heading: "H", Text: "x"}}}
	q := p
	q.URL = "https://elsewhere.example/"
	assert.Equal(t, pageHash(p), pageHash(q), "the URL is not part of the hash")
	q.Sections = []Section{{Heading: "H", Text: "y"}}
	assert.NotEqual(t, pageHash(p), pageHash(q))
	q = p
	q.FAQs = []FAQ{{Question: "Q", Answer: "A"}}
	assert.NotEqual(t, pageHash(p), pageHash(q))
}

// extractString runs extract on an HTML document as if fetched from
// https://help.example.com/docs/page.
func extractString(t *testing.T, doc string, header http.Header) extracted {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(doc))
	require.NoError(t, err)
	base, err := url.Parse("https://help.example.com/docs/page")
	require.NoError(t, err)
	if header == nil {
		header = http.Header{}
	}
	return extract(d, base, header, "sitebot")
}

// TestMainContentBoilerplateShare measures boilerplate left in the main
// content of the plausible fixture: the text lines of whole bodies that
// recur on more than half of its pages are boilerplate (header, menus,
// cookie banner, footer...), and no section of any page may hold one.
func TestMainContentBoilerplateShare(t *testing.T) {
	dir := testenv.Shared(t, "fixtures/sites/plausible")
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".html") {
			files = append(files, path)
		}
		return err
	}))
	require.Greater(t, len(files), 100)

	// Lines of whole bodies, counted once per page. A line that is all
	// link text is a menu entry: it names a page, whose own content may
	// well say the same words (its title), so it does not count.
	const minLineRunes = 25 // shorter lines ("Billing") may repeat for good reasons
	pagesWith, menuPagesWith := map[string]int{}, map[string]int{}
	for _, f := range files {
		doc := parseFile(t, f)
		doc.Find("script, style, noscript, template, svg").Remove()
		linkText := map[string]bool{}
		doc.Find("a").Each(func(_ int, a *goquery.Selection) { linkText[collapse(a.Text())] = true })
		seen := map[string]bool{}
		for _, l := range blockLines(doc.Find("body").Nodes...) {
			l = strings.TrimPrefix(l, "- ")
			if seen[l] {
				continue
			}
			seen[l] = true
			switch {
			case linkText[l]:
				menuPagesWith[l]++
			case utf8.RuneCountInString(l) >= minLineRunes:
				pagesWith[l]++
			}
		}
	}
	var boilerplate []string
	for l, n := range pagesWith {
		if 2*n > len(files) {
			boilerplate = append(boilerplate, l)
		}
	}
	menu := map[string]bool{} // menu entries on more than half of the pages
	for l, n := range menuPagesWith {
		if 2*n > len(files) {
			menu[l] = true
		}
	}
	sort.Strings(boilerplate)
	require.NotEmpty(t, boilerplate, "the fixture repeats its header, cookie banner and footer on every page")

	const maxMenuRun = 3
	sections, dirty, menuRuns := 0, 0, 0
	for _, f := range files {
		base, err := url.Parse("http://127.0.0.1:8000/" + filepath.ToSlash(strings.TrimPrefix(f, dir+string(filepath.Separator))))
		require.NoError(t, err)
		ex := extract(parseFile(t, f), base, http.Header{}, "sitebot")
		for _, s := range ex.page.Sections {
			sections++
			text := s.Heading + "\n" + s.Text
			for _, b := range boilerplate {
				if strings.Contains(text, b) {
					dirty++
					t.Errorf("%s: section %q holds boilerplate %q", base.Path, s.Heading, b)
					break
				}
			}
			// Sections may link to pages the menu lists too, and a home page
			// may be a directory of them: runs of menu entries are counted
			// for the record, not failed.
			run := 0
			for l := range strings.SplitSeq(s.Text, "\n") {
				if menu[strings.TrimPrefix(l, "- ")] {
					run++
				} else {
					run = 0
				}
				if run == maxMenuRun+1 {
					menuRuns++
					t.Logf("%s: section %q lists pages of the menu", base.Path, s.Heading)
				}
			}
		}
	}
	t.Logf("%d boilerplate lines and %d menu entries (on more than half of %d pages); "+
		"%d sections checked, %d with boilerplate (%.1f%%), %d with more than %d menu entries in a row",
		len(boilerplate), len(menu), len(files), sections, dirty, 100*float64(dirty)/float64(max(sections, 1)), menuRuns, maxMenuRun)
	assert.Zero(t, dirty)
}

func TestExtractTextStructure(t *testing.T) {
	ex := extractString(t, `<html lang="en"><body><main>
<h2 id="s">Structure</h2>
<p>A paragraph
 over two lines.</p>
<ul><li>First</li><li>Second <b>bold</b></li></ul>
<ol><li>One</li></ol>
<table><thead><tr><th>Plan</th><th>Price</th></tr></thead><tbody><tr><td>Pro</td><td>9 €</td></tr><tr><td></td><td></td></tr></tbody></table>
<pre><code>go test ./...
	indented</code></pre>
</main></body></html>`, nil)
	require.Len(t, ex.page.Sections, 1)
	assert.Equal(t, "A paragraph over two lines.\n- First\n- Second bold\n- One\nPlan | Price\nPro | 9 €\ngo test ./...\n    indented",
		ex.page.Sections[0].Text)
}
