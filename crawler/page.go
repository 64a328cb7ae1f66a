// Package crawler fetches a company's website and extracts, from every page,
// the main content, its headings and its FAQ entries as a Page.
package crawler

// Page is one crawled HTML document, reduced to what the indexer needs.
type Page struct {
	URL      string    // normalised absolute URL (canonical when the page names one)
	Title    string    // <title> without the site suffix when it can be told apart, else the first <h1>
	Lang     string    // BCP 47 primary tag, lower case ("en", "de"): <html lang>, else Content-Language, else detected from the text; "" when unknown
	Sections []Section // main content in document order; boilerplate removed
	FAQs     []FAQ     // question/answer pairs found on the page
	Hash     string    // hex SHA-256 of the extracted text, for change detection

	// For the next, conditional crawl of the page.
	ETag         string   // the response's ETag header
	LastModified string   // the response's Last-Modified header
	Links        []string // normalised on-site URLs the page links to and that are followed
}

// Section is a run of main-content text under one heading.
type Section struct {
	Anchor  string   // id of the heading ("" for text before the first heading)
	Heading string   // the heading's text
	Path    []string // headings from the outermost to this one, e.g. ["Billing FAQ", "How do I get an invoice?"]
	Level   int      // 1..6 for h1..h6, 0 for text before the first heading
	Text    string   // paragraphs, list items, table rows and code, one block per line
	Lang    string   // language of the text when it differs from the page's (nearest enclosing lang attribute); "" = the page's
}

// FAQ is one question with its answer, from JSON-LD, microdata, <details>,
// <dl> or a question heading followed by its answer.
type FAQ struct {
	Question string
	Answer   string
	Anchor   string // id of the element that holds the question, "" when none
	Lang     string // language of the section holding the question when it differs from the page's; "" = the page's
}
