package crawler

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// extracted is what the crawler learns from one HTML document.
type extracted struct {
	page      Page     // URL left empty: the crawler decides it
	links     []link   // every http(s) link of the document, boilerplate included
	canonical *url.URL // <link rel=canonical>, normalised; nil when absent
	noindex   bool     // meta robots or X-Robots-Tag forbid indexing
	nofollow  bool     // ... or following the page's links
}

// link is an outgoing link, resolved and normalised.
type link struct {
	url      *url.URL
	nofollow bool // rel=nofollow on the link itself
}

// mainSelectors are tried in order; the first match holds the main content.
var mainSelectors = []string{"main article", "article", "main", "[role=main]", "#content", ".content"}

// dropTags never hold main-content text.
const dropTags = "script, style, noscript, template, iframe, svg, math, canvas, object, embed, " +
	"button, select, input, textarea, nav, footer, aside, dialog, link, meta"

// extract reads a parsed document fetched from base (the final URL after
// redirects). agent is the crawler's robots product token. It modifies doc.
func extract(doc *goquery.Document, base *url.URL, header http.Header, agent string) extracted {
	var ex extracted

	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, ok := resolve(base, href); ok {
			base = b
		}
	}

	// Robots directives from <meta> and the X-Robots-Tag header.
	doc.Find("meta[name]").Each(func(_ int, s *goquery.Selection) {
		name := strings.ToLower(strings.TrimSpace(s.AttrOr("name", "")))
		if name == "robots" || name == agent {
			ni, nf := robotsDirectives(s.AttrOr("content", ""))
			ex.noindex = ex.noindex || ni
			ex.nofollow = ex.nofollow || nf
		}
	})
	for _, v := range header.Values("X-Robots-Tag") {
		if ua, rest, ok := strings.Cut(v, ":"); ok && !isRobotsDirective(ua) {
			if ua = strings.ToLower(strings.TrimSpace(ua)); ua != agent && ua != "*" {
				continue // addressed to another crawler
			}
			v = rest
		}
		ni, nf := robotsDirectives(v)
		ex.noindex = ex.noindex || ni
		ex.nofollow = ex.nofollow || nf
	}

	// Links, from the whole document: navigation is how pages are found.
	doc.Find("a[href], area[href], link[rel=alternate][hreflang][href]").Each(func(_ int, s *goquery.Selection) {
		u, ok := resolve(base, s.AttrOr("href", ""))
		if !ok {
			return
		}
		rel := " " + strings.ToLower(s.AttrOr("rel", "")) + " "
		ex.links = append(ex.links, link{url: u, nofollow: strings.Contains(rel, " nofollow ")})
	})
	doc.Find("link[rel]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if !hasToken(s.AttrOr("rel", ""), "canonical") {
			return true
		}
		if u, ok := resolve(base, s.AttrOr("href", "")); ok {
			ex.canonical = u
		}
		return false
	})

	// Document-level facts, read before the clean-up removes their elements.
	var jsonLD []string
	doc.Find("script[type]").Each(func(_ int, s *goquery.Selection) {
		if t := strings.ToLower(strings.TrimSpace(s.AttrOr("type", ""))); strings.HasPrefix(t, "application/ld+json") {
			jsonLD = append(jsonLD, s.Text())
		}
	})
	siteName := ""
	doc.Find("meta[property]").Each(func(_ int, s *goquery.Selection) {
		if strings.EqualFold(s.AttrOr("property", ""), "og:site_name") {
			siteName = collapse(s.AttrOr("content", ""))
		}
	})
	titleText := collapse(doc.Find("title").First().Text())
	ex.page.Lang = primaryTag(doc.Find("html").AttrOr("lang", ""))
	if ex.page.Lang == "" {
		cl, _, _ := strings.Cut(header.Get("Content-Language"), ",")
		ex.page.Lang = primaryTag(cl)
	}
	docH1 := collapse(textOf(doc.Find("h1").First().Nodes...))
	var faqs []faqItem
	for _, f := range faqsFromJSONLD(jsonLD) {
		faqs = append(faqs, faqItem{f, fromStructured})
	}
	// Microdata, from the whole document: the clean-up may drop collapsed answers.
	for _, f := range faqsFromMicrodata(doc.Nodes[0]) {
		faqs = append(faqs, faqItem{f, fromStructured})
	}

	root := mainContent(doc)
	clean(root)

	w := &walker{split: true, faqs: true, root: root.Nodes[0]}
	w.walk(root.Nodes[0])
	w.endSection()
	sections := w.sections
	if ex.page.Lang == "" {
		ex.page.Lang = DetectLang(sectionsText(sections))
	}
	langs := make([]string, len(sections)) // each section's own language
	for i := range sections {
		langs[i] = sections[i].Lang
		sections[i].Lang = relativeLang(langs[i], ex.page.Lang)
	}
	ex.page.Sections = sections

	for _, f := range w.faqList {
		faqs = append(faqs, faqItem{f, fromMarkup})
	}
	for _, f := range faqsFromHeadings(sections, langs) {
		faqs = append(faqs, faqItem{f, fromHeading})
	}
	ex.page.FAQs = mergeFAQs(faqs)
	for i := range ex.page.FAQs {
		f := &ex.page.FAQs[i]
		if f.Anchor == "" {
			// A structured answer to a question some heading asks in other words.
			if j := sectionForQuestion(f.Question, sections); j >= 0 {
				f.Anchor = sections[j].Anchor
				if f.Lang == "" {
					f.Lang = langs[j]
				}
			}
		}
		f.Lang = relativeLang(f.Lang, ex.page.Lang)
	}

	h1 := ""
	for _, s := range w.sections {
		if s.Level == 1 {
			h1 = s.Heading
			break
		}
	}
	if h1 == "" {
		h1 = docH1
	}
	ex.page.Title = pageTitle(titleText, h1, siteName)
	ex.page.Hash = pageHash(ex.page)
	return ex
}

// robotsDirectives reads a robots meta/header value ("noindex, nofollow").
func robotsDirectives(v string) (noindex, nofollow bool) {
	for d := range strings.SplitSeq(strings.ToLower(v), ",") {
		switch strings.TrimSpace(d) {
		case "noindex":
			noindex = true
		case "nofollow":
			nofollow = true
		case "none":
			noindex, nofollow = true, true
		}
	}
	return noindex, nofollow
}

// isRobotsDirective tells a directive with a value ("unavailable_after:
// ...") from a user-agent prefix ("googlebot: noindex") in X-Robots-Tag.
func isRobotsDirective(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview":
		return true
	}
	return false
}

func hasToken(list, tok string) bool {
	for f := range strings.FieldsSeq(strings.ToLower(list)) {
		if f == tok {
			return true
		}
	}
	return false
}

// primaryTag returns the lower-cased primary subtag of a language tag.
func primaryTag(tag string) string {
	tag = strings.TrimSpace(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	tag = strings.ToLower(tag)
	if len(tag) < 2 || len(tag) > 8 {
		return ""
	}
	for _, c := range tag {
		if c < 'a' || c > 'z' {
			return ""
		}
	}
	return tag
}

// sectionsText is the headings and text of sections, one block per line.
func sectionsText(sections []Section) string {
	var b strings.Builder
	for _, s := range sections {
		if s.Heading != "" {
			b.WriteString(s.Heading)
			b.WriteByte('\n')
		}
		if s.Text != "" {
			b.WriteString(s.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// mainContent picks the element that holds the page's main content.
func mainContent(doc *goquery.Document) *goquery.Selection {
	for _, sel := range mainSelectors {
		m := doc.Find(sel)
		switch {
		case m.Length() == 0:
			continue
		case m.Length() > 1 && strings.Contains(sel, "article"):
			continue // a listing of several articles: take the container instead
		}
		return m.First()
	}
	if b := doc.Find("body"); b.Length() > 0 {
		return b.First()
	}
	return doc.Selection
}

// clean removes from root what is not main content: non-text elements,
// navigation, and boilerplate recognised by tag, role, class, id or label.
func clean(root *goquery.Selection) {
	root.Find(dropTags).Remove()
	isBody := goquery.NodeName(root) == "body"
	root.Find("header").Each(func(_ int, s *goquery.Selection) {
		// An article's own header holds its title; a site header does not.
		inContent := s.ParentsFiltered("article, main, section").Length() > 0
		if s.Find("h1, h2, h3, h4, h5, h6").Length() == 0 || (isBody && !inContent) {
			s.Remove()
		}
	})
	root.Find("form").Each(func(_ int, s *goquery.Selection) {
		// Some sites wrap the whole page in one <form>; keep those.
		if s.Find("h1, h2, h3").Length() == 0 {
			s.Remove()
		}
	})
	var drop []*html.Node
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if isBoilerplate(c) {
				drop = append(drop, c)
				continue
			}
			visit(c)
		}
	}
	for _, n := range root.Nodes {
		visit(n)
	}
	for _, n := range drop {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
}

// boilerplateSingles and boilerplatePhrases are matched against the words
// of an element's class, id and aria-label ("tableOfContents" and
// "table-of-contents" both read "table of contents").
var (
	boilerplateSingles = map[string]bool{
		"cookie": true, "cookies": true, "consent": true, "gdpr": true,
		"breadcrumb": true, "breadcrumbs": true, "toc": true,
		"pagination": true, "pager": true, "skiplink": true, "skiplinks": true,
		"sidebar": true, "navbar": true, "share": true, "sharing": true,
	}
	boilerplatePhrases = []string{
		" table of contents ", " on this page ", " edit this page ", " edit page ", " edit link ",
		" skip to ", " skip link ", " skip nav ", " prev next ", " page nav ",
	}
	boilerplateRoles = map[string]bool{
		"navigation": true, "banner": true, "contentinfo": true, "complementary": true,
		"search": true, "dialog": true, "alertdialog": true,
	}
)

func isBoilerplate(n *html.Node) bool {
	var names strings.Builder
	for _, a := range n.Attr {
		v := strings.TrimSpace(a.Val)
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(v, "true") {
				return true
			}
		case "style":
			s := strings.ToLower(strings.ReplaceAll(v, " ", ""))
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
				return true
			}
		case "role":
			if boilerplateRoles[strings.ToLower(v)] {
				return true
			}
		case "rel":
			if hasToken(v, "prev") || hasToken(v, "next") {
				return true
			}
		case "class", "id", "aria-label":
			names.WriteString(v)
			names.WriteByte(' ')
		}
	}
	if names.Len() == 0 {
		return false
	}
	words := wordsOf(names.String())
	for _, w := range words {
		if boilerplateSingles[w] {
			return true
		}
	}
	joined := " " + strings.Join(words, " ") + " "
	for _, p := range boilerplatePhrases {
		if strings.Contains(joined, p) {
			return true
		}
	}
	return false
}

// wordsOf splits identifiers into lower-case words at non-alphanumerics and
// lower-to-upper case changes.
func wordsOf(s string) []string {
	var words []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsUpper(r):
			if prevLower {
				flush()
			}
			cur = append(cur, r)
			prevLower = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
			prevLower = true
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}

// blockTags end the current line of text.
var blockTags = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Body: true, atom.Caption: true, atom.Dd: true, atom.Details: true, atom.Div: true,
	atom.Dl: true, atom.Dt: true, atom.Fieldset: true, atom.Figcaption: true, atom.Figure: true,
	atom.Footer: true, atom.Header: true, atom.Hr: true, atom.Li: true, atom.Main: true,
	atom.Nav: true, atom.Ol: true, atom.P: true, atom.Section: true, atom.Summary: true,
	atom.Table: true, atom.Tbody: true, atom.Td: true, atom.Tfoot: true, atom.Th: true,
	atom.Thead: true, atom.Tr: true, atom.Ul: true, atom.Legend: true, atom.Hgroup: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
}

func headingLevel(n *html.Node) int {
	switch n.DataAtom {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

// walker turns a DOM subtree into lines of text, one block per line, and,
// when split is set, into sections at each heading.
type walker struct {
	split bool       // headings start sections
	faqs  bool       // collect <details> and <dl> FAQs
	root  *html.Node // the subtree's root (not an anchor source)

	sections []Section
	cur      Section
	headings []Section // open headings, outermost first (Level, Heading)
	lines    []string
	line     strings.Builder
	prefix   string // put before the next line ("- " in a list item)
	faqList  []FAQ  // from <details> and <dl>, Lang the element's own
	langSet  bool   // cur.Lang is known: its heading's, or its first text's
}

func (w *walker) flush() {
	s := collapse(w.line.String())
	w.line.Reset()
	if s == "" {
		return
	}
	w.lines = append(w.lines, w.prefix+s)
	w.prefix = ""
}

func (w *walker) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if w.split && !w.langSet && strings.TrimSpace(n.Data) != "" {
			w.cur.Lang, w.langSet = langOf(n.Parent), true
		}
		w.line.WriteString(n.Data)
		return
	case html.DocumentNode:
		w.children(n)
		return
	case html.ElementNode:
	default:
		return
	}
	switch {
	case n.DataAtom == atom.Br:
		w.flush()
	case n.DataAtom == atom.Img:
		// alt text is dropped: it rarely answers a question
	case headingLevel(n) > 0 && w.split:
		w.flush()
		w.heading(n)
	case n.DataAtom == atom.Pre:
		w.flush()
		w.pre(n)
	case n.DataAtom == atom.Tr:
		w.flush()
		w.row(n)
	case n.DataAtom == atom.Li:
		w.flush()
		w.prefix = "- "
		w.children(n)
		w.flush()
		w.prefix = ""
	case blockTags[n.DataAtom]:
		w.flush()
		if w.faqs {
			switch n.DataAtom {
			case atom.Details:
				w.detailsFAQ(n)
			case atom.Dl:
				w.dlFAQs(n)
			}
		}
		w.children(n)
		w.flush()
	default:
		w.children(n)
	}
}

func (w *walker) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

// endSection closes the current section, keeping it when it has a heading
// or text.
func (w *walker) endSection() {
	w.flush()
	w.cur.Text = strings.Join(w.lines, "\n")
	w.lines = nil
	if w.cur.Level > 0 || w.cur.Text != "" {
		w.sections = append(w.sections, w.cur)
	}
	w.cur = Section{}
	w.langSet = false
}

func (w *walker) heading(n *html.Node) {
	text := headingText(n)
	if text == "" {
		return // an empty heading starts nothing
	}
	w.endSection()
	level := headingLevel(n)
	for len(w.headings) > 0 && w.headings[len(w.headings)-1].Level >= level {
		w.headings = w.headings[:len(w.headings)-1]
	}
	w.headings = append(w.headings, Section{Level: level, Heading: text})
	path := make([]string, len(w.headings))
	for i, h := range w.headings {
		path[i] = h.Heading
	}
	w.cur = Section{Anchor: w.anchorOf(n), Heading: text, Path: path, Level: level, Lang: langOf(n)}
	w.langSet = true
}

// headingText is a heading's text without permalink marks.
func headingText(n *html.Node) string {
	t := collapse(textOf(n))
	t = strings.TrimRight(t, " #¶§🔗")
	t = strings.TrimLeft(t, "#¶§🔗 ")
	return t
}

// anchorOf finds the fragment that links to heading n: its id, an id or
// name inside it, the id of a <section> it opens, or an empty named anchor
// right before it.
func (w *walker) anchorOf(n *html.Node) string {
	if id := attr(n, "id"); id != "" {
		return id
	}
	if id := innerAnchor(n); id != "" {
		return id
	}
	if p := n.Parent; p != nil && p != w.root && p.DataAtom == atom.Section && firstElement(p) == n {
		if id := attr(p, "id"); id != "" {
			return id
		}
	}
	for s := n.PrevSibling; s != nil; s = s.PrevSibling {
		if s.Type == html.TextNode && strings.TrimSpace(s.Data) == "" {
			continue
		}
		if s.Type == html.ElementNode && s.DataAtom == atom.A && collapse(textOf(s)) == "" {
			if id := attr(s, "id"); id != "" {
				return id
			}
			return attr(s, "name")
		}
		break
	}
	return ""
}

func innerAnchor(n *html.Node) string {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if id := attr(c, "id"); id != "" {
			return id
		}
		if c.DataAtom == atom.A {
			if name := attr(c, "name"); name != "" {
				return name
			}
		}
		if id := innerAnchor(c); id != "" {
			return id
		}
	}
	return ""
}

func firstElement(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			return c
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return strings.TrimSpace(a.Val)
		}
	}
	return ""
}

// pre keeps preformatted text line by line, dropping blank lines.
func (w *walker) pre(n *html.Node) {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.DataAtom == atom.Br:
			b.WriteByte('\n')
		default:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				rec(c)
			}
		}
	}
	rec(n)
	for l := range strings.SplitSeq(b.String(), "\n") {
		l = strings.TrimRight(strings.ReplaceAll(l, "\t", "    "), " \r\u00a0")
		if strings.TrimSpace(l) != "" {
			w.lines = append(w.lines, w.prefix+l)
			w.prefix = ""
		}
	}
}

// row writes a table row as its cells joined by " | ".
func (w *walker) row(n *html.Node) {
	var cells []string
	empty := true
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || (c.DataAtom != atom.Td && c.DataAtom != atom.Th) {
			continue
		}
		t := collapse(strings.Join(blockLines(c), " "))
		if t != "" {
			empty = false
		}
		cells = append(cells, t)
	}
	if !empty {
		w.lines = append(w.lines, w.prefix+strings.Join(cells, " | "))
		w.prefix = ""
	}
}

// blockLines is the text of nodes, one block per line, headings included.
func blockLines(nodes ...*html.Node) []string {
	w := &walker{}
	for _, n := range nodes {
		w.walk(n)
	}
	w.flush()
	return w.lines
}

// detailsFAQ records <details><summary>question</summary>answer</details>.
func (w *walker) detailsFAQ(n *html.Node) {
	var summary *html.Node
	var rest []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if summary == nil && c.Type == html.ElementNode && c.DataAtom == atom.Summary {
			summary = c
			continue
		}
		rest = append(rest, c)
	}
	if summary == nil {
		return
	}
	q := collapse(textOf(summary))
	a := strings.Join(blockLines(rest...), "\n")
	if q == "" || a == "" || isDisclosureLabel(q) {
		return
	}
	anchor := attr(n, "id")
	if anchor == "" {
		anchor = attr(summary, "id")
	}
	if anchor == "" {
		anchor = w.cur.Anchor
	}
	w.faqList = append(w.faqList, FAQ{Question: q, Answer: a, Anchor: anchor, Lang: langOf(n)})
}

// disclosureLabels start <summary> texts of collapsed extras ("Read more
// about ...") rather than questions.
var disclosureLabels = []string{"read more", "show more", "see more", "view more", "more info",
	"click to", "expand", "show details", "details"}

func isDisclosureLabel(s string) bool {
	if strings.HasSuffix(s, "?") {
		return false
	}
	s = strings.ToLower(s)
	for _, p := range disclosureLabels {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// dlFAQs records each <dt> group of a <dl> with the <dd>s that follow it.
func (w *walker) dlFAQs(n *html.Node) {
	var items []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if c.DataAtom == atom.Div { // <dl><div><dt>..<dd>..</div></dl>
			for g := c.FirstChild; g != nil; g = g.NextSibling {
				if g.Type == html.ElementNode {
					items = append(items, g)
				}
			}
			continue
		}
		items = append(items, c)
	}
	var dts, dds []*html.Node
	emit := func() {
		if len(dts) > 0 && len(dds) > 0 {
			var qs []string
			anchor := ""
			for _, dt := range dts {
				if q := collapse(textOf(dt)); q != "" {
					qs = append(qs, q)
				}
				if anchor == "" {
					anchor = attr(dt, "id")
					if anchor == "" {
						anchor = innerAnchor(dt)
					}
				}
			}
			a := strings.Join(blockLines(dds...), "\n")
			if anchor == "" {
				anchor = attr(n, "id")
			}
			if anchor == "" {
				anchor = w.cur.Anchor
			}
			if len(qs) > 0 && a != "" {
				w.faqList = append(w.faqList, FAQ{Question: strings.Join(qs, " / "), Answer: a, Anchor: anchor, Lang: langOf(dts[0])})
			}
		}
		dts, dds = nil, nil
	}
	for _, it := range items {
		switch it.DataAtom {
		case atom.Dt:
			if len(dds) > 0 {
				emit()
			}
			dts = append(dts, it)
		case atom.Dd:
			dds = append(dds, it)
		}
	}
	emit()
}

// textOf concatenates the text under nodes, with a space at element
// boundaries that break lines.
func textOf(nodes ...*html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Template, atom.Noscript:
				return
			case atom.Br:
				b.WriteByte(' ')
				return
			}
		}
		brk := n.Type == html.ElementNode && blockTags[n.DataAtom]
		if brk {
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
		if brk {
			b.WriteByte(' ')
		}
	}
	for _, n := range nodes {
		rec(n)
	}
	return b.String()
}

// collapse squeezes runs of white space into one space and trims the ends;
// zero-width spaces and BOMs go.
func collapse(s string) string {
	if strings.ContainsAny(s, "\u200b\ufeff") {
		s = strings.NewReplacer("\u200b", "", "\ufeff", "").Replace(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

// titleSeparators split "Page | Site" titles.
var titleSeparators = []string{" | ", " – ", " — ", " - ", " · ", " :: ", " » "}

// maxSuffixRunes is the longest site-name suffix that is stripped on the
// strength of the first part equalling the <h1>.
const maxSuffixRunes = 40

// pageTitle derives a page's title from <title>, dropping a site-name part
// when it can be told apart: it equals og:site_name, or the other part is
// the page's first <h1>. With no <title>, the <h1> is the title.
func pageTitle(title, h1, siteName string) string {
	if title == "" {
		return h1
	}
	li, ls := lastSeparator(title)
	if li < 0 {
		return title
	}
	head, tail := strings.TrimSpace(title[:li]), strings.TrimSpace(title[li+len(ls):])
	if (siteName != "" && strings.EqualFold(tail, siteName)) ||
		(utf8.RuneCountInString(tail) <= maxSuffixRunes && h1 != "" && strings.EqualFold(head, h1)) {
		return head
	}
	fi, fs := firstSeparator(title)
	head, tail = strings.TrimSpace(title[:fi]), strings.TrimSpace(title[fi+len(fs):])
	if (siteName != "" && strings.EqualFold(head, siteName)) ||
		(utf8.RuneCountInString(head) <= maxSuffixRunes && h1 != "" && strings.EqualFold(tail, h1)) {
		return tail
	}
	return title
}

func lastSeparator(s string) (int, string) {
	best, sep := -1, ""
	for _, x := range titleSeparators {
		if i := strings.LastIndex(s, x); i > best {
			best, sep = i, x
		}
	}
	return best, sep
}

func firstSeparator(s string) (int, string) {
	best, sep := -1, ""
	for _, x := range titleSeparators {
		if i := strings.Index(s, x); i >= 0 && (best < 0 || i < best) {
			best, sep = i, x
		}
	}
	return best, sep
}

// pageHash is the hex SHA-256 of a page's title, sections and FAQs: the
// same text at two URLs hashes the same.
func pageHash(p Page) string {
	h := sha256.New()
	write := func(parts ...string) {
		for _, s := range parts {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	write("title", p.Title)
	for _, s := range p.Sections {
		write("section", s.Anchor, s.Heading, s.Text)
	}
	for _, f := range p.FAQs {
		write("faq", f.Question, f.Answer)
	}
	return hex.EncodeToString(h.Sum(nil))
}
