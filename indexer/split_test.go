package indexer

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/crawler"
)

const pageURL = "https://example.com/docs/billing"

func TestSplitSections(t *testing.T) {
	p := crawler.Page{
		URL: pageURL, Title: "Billing", Lang: "en",
		Sections: []crawler.Section{
			{Level: 0, Text: "Intro before any heading."},
			{Anchor: "billing", Heading: "Billing", Path: []string{"Billing"}, Level: 1, Text: ""},
			{Anchor: "invoices", Heading: "Invoices", Path: []string{"Billing", "Invoices"}, Level: 2, Text: "Download invoices from settings."},
			{Heading: "Old invoices", Path: []string{"Billing", "Invoices", "Old invoices"}, Level: 3, Text: "Ask support."},
			{Heading: "Refunds", Path: []string{"Billing", "Refunds"}, Level: 2, Text: "Refunds within 30 days."},
			{Anchor: "vat", Heading: "VAT", Path: []string{"Billing", "VAT"}, Level: 2, Text: "   \n  "},
			{Heading: "Legacy", Level: 2, Text: "No path given."},
		},
	}
	got := Split(p)
	type row struct{ id, url, heading, text string }
	var rows []row
	for i, c := range got {
		assert.Equal(t, i, c.Ord)
		assert.Equal(t, pageURL, c.PageURL)
		assert.Equal(t, "Billing", c.Title)
		assert.Equal(t, "en", c.Lang)
		assert.False(t, c.FAQ)
		rows = append(rows, row{c.ID, c.URL, c.Heading, c.Text})
	}
	assert.Equal(t, []row{
		{pageURL + "#0", pageURL, "", "Intro before any heading."},
		{pageURL + "#1", pageURL + "#invoices", "Billing > Invoices", "Download invoices from settings."},
		// no anchor of its own: the enclosing section's
		{pageURL + "#2", pageURL + "#invoices", "Billing > Invoices > Old invoices", "Ask support."},
		// no anchor, and its parent "Billing" has one
		{pageURL + "#3", pageURL + "#billing", "Billing > Refunds", "Refunds within 30 days."},
		{pageURL + "#4", pageURL + "#billing", "Legacy", "No path given."},
	}, rows)
}

func TestSplitNoAnchorAnywhere(t *testing.T) {
	got := Split(crawler.Page{URL: pageURL, Sections: []crawler.Section{
		{Heading: "A", Path: []string{"A"}, Level: 2, Text: "text"},
	}})
	require.Len(t, got, 1)
	assert.Equal(t, pageURL, got[0].URL)
}

func TestSplitLongSection(t *testing.T) {
	var sentences []string
	for i := range 60 {
		sentences = append(sentences, fmt.Sprintf("Sentence number %d explains one more detail of the setup.", i))
	}
	// Two long lines of sentences and a few short list lines.
	text := strings.Join(sentences[:30], " ") + "\n- item one\n- item two\n" + strings.Join(sentences[30:], " ")
	p := crawler.Page{URL: pageURL, Sections: []crawler.Section{
		{Anchor: "setup", Heading: "Setup", Path: []string{"Setup"}, Level: 2, Text: text},
	}}
	got := Split(p)
	require.Greater(t, len(got), 2, "a %d-character section is cut", len(text))

	for i, c := range got {
		n := utf8.RuneCountInString(c.Text)
		assert.LessOrEqual(t, n, MaxChunkChars, "chunk %d", i)
		assert.Greater(t, n, 200, "chunk %d is not a sliver", i)
		assert.Equal(t, pageURL+"#setup", c.URL)
		assert.Equal(t, "Setup", c.Heading)
		assert.Equal(t, fmt.Sprintf("%s#%d", pageURL, i), c.ID)
		if i > 0 {
			// The overlap: the previous chunk's last sentence starts this one.
			prev := got[i-1].Text
			first := strings.SplitN(c.Text, ".", 2)[0] + "."
			assert.True(t, strings.HasSuffix(prev, first), "chunk %d starts with %q, the end of chunk %d", i, first, i-1)
		}
	}
	// Nothing is lost: every sentence and list item is in some chunk.
	all := ""
	for _, c := range got {
		all += c.Text + "\n"
	}
	for _, s := range append(sentences, "- item one", "- item two") {
		assert.Contains(t, all, s)
	}
}

func TestSplitHugeWordlessLine(t *testing.T) {
	// No sentence ends and no line breaks: cut at words.
	text := strings.Repeat("word ", 1000)
	got := Split(crawler.Page{URL: pageURL, Sections: []crawler.Section{{Level: 1, Heading: "H", Path: []string{"H"}, Text: text}}})
	require.Greater(t, len(got), 3)
	for _, c := range got {
		assert.LessOrEqual(t, utf8.RuneCountInString(c.Text), MaxChunkChars)
	}
}

func TestSplitShortSectionIsOneChunk(t *testing.T) {
	text := strings.Repeat("x", 1400) // over the target, under the maximum
	got := Split(crawler.Page{URL: pageURL, Sections: []crawler.Section{{Level: 1, Text: text}}})
	require.Len(t, got, 1)
	assert.Equal(t, text, got[0].Text)
}

func TestSplitFAQs(t *testing.T) {
	p := crawler.Page{
		URL: pageURL, Title: "FAQ", Lang: "en",
		Sections: []crawler.Section{
			{Anchor: "how-do-i-get-an-invoice", Heading: "How do I get an invoice?", Path: []string{"FAQ", "How do I get an invoice?"}, Level: 2, Text: "Paddle emails it."},
		},
		FAQs: []crawler.FAQ{
			{Question: "How do I get an invoice?", Answer: "Paddle emails it.", Anchor: "how-do-i-get-an-invoice"}, // already a section
			{Question: "how do i GET an invoice", Answer: "Same question, other case."},                            // also a duplicate
			{Question: "Can I pay by PayPal?", Answer: "Yes.", Anchor: "paypal"},
			{Question: "Do you take cash?", Answer: "No."},
			{Question: "Empty answer?", Answer: "  "},
		},
	}
	got := Split(p)
	require.Len(t, got, 3)
	assert.False(t, got[0].FAQ)

	assert.Equal(t, Chunk{ID: pageURL + "#1", PageURL: pageURL, URL: pageURL + "#paypal", Title: "FAQ",
		Heading: "Can I pay by PayPal?", Text: "Can I pay by PayPal?\nYes.", Lang: "en", Ord: 1, FAQ: true}, got[1])
	assert.Equal(t, pageURL, got[2].URL)
	assert.Equal(t, "Do you take cash?\nNo.", got[2].Text)
	assert.True(t, got[2].FAQ)
}

func TestSplitLongFAQ(t *testing.T) {
	answer := strings.Repeat("This answer goes on and on. ", 150)
	got := Split(crawler.Page{URL: pageURL, FAQs: []crawler.FAQ{{Question: "Why?", Answer: answer}}})
	require.Greater(t, len(got), 1)
	for _, c := range got {
		assert.True(t, c.FAQ)
		assert.True(t, strings.HasPrefix(c.Text, "Why?\n"))
		assert.LessOrEqual(t, utf8.RuneCountInString(c.Text), MaxChunkChars)
	}
}

func TestSplitEmptyPage(t *testing.T) {
	assert.Empty(t, Split(crawler.Page{URL: pageURL}))
}

func TestChunkSection(t *testing.T) {
	tests := []struct{ title, heading, want string }{
		{"Billing FAQ", "Billing FAQ > How do I get an invoice?", "How do I get an invoice?"},
		{"Billing FAQ", "Billing FAQ", ""},
		{"Docs", "Billing > Cancel a plan", "Billing > Cancel a plan"},
		{"Docs", "", ""},
		{"billing faq", "Billing FAQ > Refunds > How long", "Refunds > How long"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Chunk{Title: tt.title, Heading: tt.heading}.Section(), tt.heading)
	}
}

func TestSplitKeepsSectionLanguage(t *testing.T) {
	p := crawler.Page{URL: "https://le.test/fi/faq", Title: "UKK", Lang: "fi",
		Sections: []crawler.Section{
			{Heading: "Huomio", Level: 1, Path: []string{"Huomio"}, Text: "Tätä sivua ei ole vielä käännetty."},
			{Anchor: "cost", Heading: "What does it cost?", Level: 2, Path: []string{"What does it cost?"}, Text: "It is free.", Lang: "en"},
		},
		FAQs: []crawler.FAQ{{Question: "Is it free for everyone?", Answer: "Yes, for every website.", Lang: "en"}},
	}
	chunks := Split(p)
	require.Len(t, chunks, 3)
	assert.Equal(t, "fi", chunks[0].Lang)
	assert.Equal(t, "en", chunks[1].Lang)
	assert.Equal(t, "en", chunks[2].Lang)
}
