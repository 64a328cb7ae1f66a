package crawler

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// faqsFromJSONLD reads schema.org FAQPage entries from JSON-LD script
// bodies (single objects, arrays and @graph alike).
func faqsFromJSONLD(scripts []string) []FAQ {
	var faqs []FAQ
	for _, src := range scripts {
		var v any
		if err := json.Unmarshal([]byte(strings.TrimSpace(src)), &v); err != nil {
			continue // broken JSON-LD is common; the page text still counts
		}
		collectFAQPages(v, &faqs, 0)
	}
	return faqs
}

// collectFAQPages walks a JSON-LD value looking for FAQPage nodes.
func collectFAQPages(v any, out *[]FAQ, depth int) {
	if depth > 32 {
		return
	}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			collectFAQPages(e, out, depth+1)
		}
	case map[string]any:
		if hasType(t, "FAQPage") {
			for _, q := range asList(t["mainEntity"]) {
				m, ok := q.(map[string]any)
				if !ok {
					continue
				}
				question := htmlText(str(m["name"]))
				if question == "" {
					question = htmlText(str(m["text"]))
				}
				answer := ""
				for _, key := range []string{"acceptedAnswer", "suggestedAnswer"} {
					for _, a := range asList(m[key]) {
						if am, ok := a.(map[string]any); ok {
							answer = htmlText(str(am["text"]))
						} else {
							answer = htmlText(str(a))
						}
						if answer != "" {
							break
						}
					}
					if answer != "" {
						break
					}
				}
				if question != "" && answer != "" {
					*out = append(*out, FAQ{Question: question, Answer: answer})
				}
			}
			return
		}
		for _, e := range t {
			collectFAQPages(e, out, depth+1)
		}
	}
}

func hasType(m map[string]any, typ string) bool {
	for _, t := range asList(m["@type"]) {
		s := str(t)
		if s == typ || strings.HasSuffix(s, "/"+typ) || strings.HasSuffix(s, ":"+typ) {
			return true
		}
	}
	return false
}

func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// htmlText strips markup from s, one block per line joined by spaces.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return collapse(s)
	}
	return collapse(strings.Join(blockLines(nodes...), " "))
}

// isSchemaType tells whether an itemtype attribute (a space-separated list
// of URLs) names the schema.org type typ, over http or https, with or
// without www.
func isSchemaType(itemtype, typ string) bool {
	for t := range strings.FieldsSeq(itemtype) {
		t = strings.TrimPrefix(strings.TrimPrefix(t, "https://"), "http://")
		t = strings.TrimPrefix(t, "www.")
		if strings.EqualFold(strings.TrimSuffix(t, "/"), "schema.org/"+typ) {
			return true
		}
	}
	return false
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// faqsFromMicrodata reads schema.org FAQPage microdata under root: each
// mainEntity Question's name with the text of its accepted (or else
// suggested) answer. Lang is the language of the question's element.
func faqsFromMicrodata(root *html.Node) []FAQ {
	var faqs []FAQ
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && hasAttr(n, "itemscope") && isSchemaType(attr(n, "itemtype"), "FAQPage") {
			for _, q := range itemProps(n)["mainEntity"] {
				if f, ok := microdataQuestion(q); ok {
					faqs = append(faqs, f)
				}
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(root)
	return faqs
}

func microdataQuestion(q *html.Node) (FAQ, bool) {
	if !hasAttr(q, "itemscope") {
		return FAQ{}, false
	}
	props := itemProps(q)
	var f FAQ
	var name *html.Node
	for _, key := range []string{"name", "text"} {
		if ns := props[key]; len(ns) > 0 {
			name = ns[0]
			f.Question = collapse(itemValue(name, " "))
			break
		}
	}
	for _, key := range []string{"acceptedAnswer", "suggestedAnswer"} {
		for _, a := range props[key] {
			if hasAttr(a, "itemscope") {
				if ts := itemProps(a)["text"]; len(ts) > 0 {
					f.Answer = itemValue(ts[0], "\n")
				}
			} else {
				f.Answer = itemValue(a, "\n")
			}
			if f.Answer != "" {
				break
			}
		}
		if f.Answer != "" {
			break
		}
	}
	if f.Question == "" || f.Answer == "" {
		return FAQ{}, false
	}
	f.Anchor = attr(q, "id")
	if f.Anchor == "" {
		f.Anchor = attr(name, "id")
	}
	if f.Anchor == "" {
		f.Anchor = innerAnchor(name)
	}
	f.Lang = langOf(q)
	return f, true
}

// itemProps maps the property names of the item scope to the elements
// that hold them, not looking inside nested items.
func itemProps(scope *html.Node) map[string][]*html.Node {
	props := map[string][]*html.Node{}
	var rec func(n *html.Node)
	rec = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			for p := range strings.FieldsSeq(attr(c, "itemprop")) {
				p = p[strings.LastIndexAny(p, "/#")+1:] // "https://schema.org/name" is "name"
				props[p] = append(props[p], c)
			}
			if !hasAttr(c, "itemscope") {
				rec(c)
			}
		}
	}
	rec(scope)
	return props
}

// itemValue is a microdata property's value: a <meta>'s content, else the
// element's text, one block per line joined by sep.
func itemValue(n *html.Node, sep string) string {
	if n.DataAtom == atom.Meta {
		return collapse(attr(n, "content"))
	}
	return strings.Join(blockLines(n), sep)
}

// questionWords start questions, by language; a phrase of two words is
// matched against a heading's first two words. Headings in a language not
// listed are checked against all lists.
var questionWords = map[string][]string{
	"en": {"how", "what", "why", "when", "where", "can", "do", "does", "did", "is", "are", "which", "who",
		"should", "could"},
	"de": {"wie", "was", "warum", "wann", "wo", "kann", "gibt", "ist", "welche", "welcher", "welches",
		"wer", "wieso", "weshalb", "wozu", "woher", "können", "muss", "sind"},
	"fr": {"comment", "pourquoi", "quand", "où", "est-ce", "qu'est-ce", "quel", "quelle", "quels",
		"quelles", "combien", "puis-je", "peut-on", "dois-je"},
	"es": {"cómo", "qué", "por qué", "cuándo", "dónde", "puedo", "cuál", "cuáles", "quién", "cuánto",
		"cuánta", "se puede"},
	"fi": {"miten", "mitä", "miksi", "milloin", "missä", "voiko", "onko", "mikä", "kuka", "kuinka",
		"voinko", "mistä", "mihin", "paljonko", "saako", "pitääkö"},
	"ru": {"как", "что", "почему", "когда", "где", "можно", "есть ли", "какой", "какая", "какие",
		"какую", "кто", "зачем", "сколько", "нужно ли", "могу ли"},
	"sv": {"hur", "vad", "varför", "när", "var", "kan", "vilken", "vilka", "vem", "finns", "går det"},
}

// questionStarts is questionWords as sets, with "" for all languages.
var questionStarts = func() map[string]map[string]bool {
	m := map[string]map[string]bool{"": {}}
	for lang, ws := range questionWords {
		m[lang] = map[string]bool{}
		for _, w := range ws {
			m[lang][w] = true
			m[""][w] = true
		}
	}
	return m
}()

// minQuestionWords is the fewest words of a heading that is a question by
// its first word alone: "What's new" is a title.
const minQuestionWords = 3

// isQuestion tells whether a heading in language lang asks a question: it
// ends with a question mark, or starts with a question word and has at
// least minQuestionWords words.
func isQuestion(text, lang string) bool {
	t := strings.TrimRight(strings.TrimSpace(text), ` "'”»)`)
	if strings.HasSuffix(t, "?") || strings.HasSuffix(t, "？") || strings.HasPrefix(t, "¿") {
		return true
	}
	words := strings.Fields(strings.ToLower(t))
	if len(words) < minQuestionWords {
		return false
	}
	contracted := false // "what's": "what is"
	for i, w := range words[:2] {
		w = strings.ReplaceAll(strings.Trim(w, `"'“”«»„,:;.!`), "’", "'")
		if s, ok := strings.CutSuffix(w, "'s"); ok {
			w, contracted = s, contracted || i == 0
		}
		words[i] = w
	}
	if words[0] == "do" && words[1] == "not" {
		return false // an instruction
	}
	starts, ok := questionStarts[lang]
	if !ok {
		starts = questionStarts[""]
	}
	if starts[words[0]+" "+words[1]] {
		return true
	}
	if starts[words[0]] {
		if lang != "en" && ok {
			return true
		}
		if contracted {
			return !enContractedTitles[words[1]] // "What's new in 2.0" is a title
		}
		return !isEnglishTitle(words)
	}
	return (lang == "ru" || !ok) && words[1] == "ли" // "Нужно ли ...", "Есть ли ..."
}

// English headings often start with a question word and are titles: "How
// funnel conversions are counted", "Why 404 tracking matters", "What it is".
// A question without its question mark goes on with "to", an auxiliary,
// or an auxiliary and its subject a little later ("What payment methods do
// you ...").
var (
	enTitleStarts = map[string]bool{"how": true, "what": true, "why": true, "when": true, "where": true}
	enAuxiliaries = map[string]bool{"do": true, "does": true, "did": true, "can": true, "could": true,
		"should": true, "would": true, "will": true, "is": true, "are": true, "was": true, "were": true,
		"has": true, "have": true, "may": true, "must": true, "shall": true}
	enAfterQuestionWord = map[string]bool{"to": true, "much": true, "many": true, "long": true, "often": true,
		"happens": true, "if": true}
	enContractedTitles = map[string]bool{"new": true, "next": true, "in": true, "inside": true,
		"changed": true, "included": true, "coming": true}
	enSubjects = map[string]bool{"i": true, "you": true, "we": true, "it": true, "they": true, "my": true,
		"your": true, "our": true, "the": true, "this": true, "there": true}
)

// isEnglishTitle tells a title from a question among lower-case words
// starting with a question word (the first two without punctuation).
func isEnglishTitle(words []string) bool {
	if !enTitleStarts[words[0]] {
		return false
	}
	if enAuxiliaries[words[1]] || enAfterQuestionWord[words[1]] {
		return false
	}
	for i := 2; i < min(len(words)-1, 5); i++ {
		if enAuxiliaries[words[i]] && enSubjects[strings.Trim(words[i+1], ",.;:")] {
			return false
		}
	}
	return true
}

// faqsFromHeadings makes a FAQ of each section whose heading is a question
// (h2-h6, and h1 when the page has several): the answer is the section's
// text with its sub-sections. langs[i] is the language of sections[i].
func faqsFromHeadings(sections []Section, langs []string) []FAQ {
	h1s := 0
	for _, s := range sections {
		if s.Level == 1 {
			h1s++
		}
	}
	var faqs []FAQ
	for i, s := range sections {
		if s.Level == 0 || (s.Level == 1 && h1s < 2) || !isQuestion(s.Heading, langs[i]) {
			continue
		}
		var lines []string
		if s.Text != "" {
			lines = append(lines, s.Text)
		}
		for _, sub := range sections[i+1:] {
			if sub.Level <= s.Level {
				break
			}
			lines = append(lines, sub.Heading)
			if sub.Text != "" {
				lines = append(lines, sub.Text)
			}
		}
		if len(lines) == 0 {
			continue
		}
		faqs = append(faqs, FAQ{Question: s.Heading, Answer: strings.Join(lines, "\n"), Anchor: s.Anchor, Lang: langs[i]})
	}
	return faqs
}

// faqSource tells where a FAQ was found; of the same question found twice,
// the copy from the earlier source is kept.
type faqSource int

const (
	fromStructured faqSource = iota // JSON-LD or microdata: the site's own question and answer
	fromMarkup                      // <details> or <dl>
	fromHeading                     // a question heading with the section under it
)

type faqItem struct {
	FAQ
	source faqSource
}

// mergeFAQs drops FAQs without a question or answer and keeps each question
// once, from the earliest source: the structured text wins, a heading's
// anchor wins. Questions are the same when their normalised text is equal
// or, across sources, when most of their content words are shared.
func mergeFAQs(items []faqItem) []FAQ {
	slices.SortStableFunc(items, func(a, b faqItem) int { return int(a.source) - int(b.source) })
	var out []faqItem
	absorbed := map[int]map[faqSource]bool{} // out index -> sources merged by similarity
	for _, f := range items {
		if f.Question == "" || f.Answer == "" {
			continue
		}
		i := indexOfQuestion(out, f.Question, func(j int) bool {
			return out[j].source != f.source && !absorbed[j][f.source]
		})
		if i < 0 {
			out = append(out, f)
			continue
		}
		if !sameText(out[i].Question, f.Question) {
			if absorbed[i] == nil {
				absorbed[i] = map[faqSource]bool{}
			}
			absorbed[i][f.source] = true
		}
		o := &out[i]
		if f.Anchor != "" && (o.Anchor == "" || (f.source == fromHeading && o.source != fromHeading)) {
			o.Anchor = f.Anchor
		}
		if o.Lang == "" {
			o.Lang = f.Lang
		}
	}
	if len(out) == 0 {
		return nil
	}
	faqs := make([]FAQ, len(out))
	for i, f := range out {
		faqs[i] = f.FAQ
	}
	return faqs
}

// indexOfQuestion finds in items the question equal to q after
// normalisation or else, among the items fuzzy allows, the one sharing
// most content words with q (at least similarQuestion).
func indexOfQuestion(items []faqItem, q string, fuzzy func(int) bool) int {
	nq := normQuestion(q)
	for i, it := range items {
		if normQuestion(it.Question) == nq {
			return i
		}
	}
	qw := contentWords(q)
	best, bestScore := -1, 0.0
	for i, it := range items {
		if !fuzzy(i) {
			continue
		}
		if score := overlap(qw, contentWords(it.Question)); score > bestScore {
			best, bestScore = i, score
		}
	}
	if bestScore >= similarQuestion {
		return best
	}
	return -1
}

// similarQuestion is the least Dice coefficient of content words at which
// two differently worded questions are the same.
const similarQuestion = 0.75

// sectionForQuestion returns the index of the section whose heading asks
// question, or -1: the same words, or nearly.
func sectionForQuestion(question string, sections []Section) int {
	nq := normQuestion(question)
	qw := contentWords(question)
	best, bestScore := -1, 0.0
	for i, s := range sections {
		if s.Anchor == "" || s.Level == 0 {
			continue
		}
		if normQuestion(s.Heading) == nq {
			return i
		}
		if score := overlap(qw, contentWords(s.Heading)); score > bestScore {
			best, bestScore = i, score
		}
	}
	if bestScore >= similarQuestion {
		return best
	}
	return -1
}

func sameText(a, b string) bool { return normQuestion(a) == normQuestion(b) }

// normQuestion lower-cases s and keeps its words, separated by one space.
func normQuestion(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// stopWords carry no topic: two questions differing only in them ask the
// same ("Is the billing based..." and "Is billing based...").
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(`a an the of to in on at for by with from and or if it its this that
		is are was be been do does did can could should would will i me my we us our you your they their
		how what why when where which who whom there s
		der die das ein eine und oder ist sind ich wir sie es zu von mit für auf im in den dem des
		le la les un une des de du et ou est je nous vous il elle en au aux pour avec
		el los las y o es yo mi se lo por con para
		ja tai on ei se
		и в на с по не я мы вы это ли
		och att är jag vi du det en ett`) {
		m[w] = true
	}
	return m
}()

func contentWords(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range wordsOf(strings.ToLower(s)) {
		if !stopWords[w] {
			m[w] = true
		}
	}
	return m
}

// overlap is the Dice coefficient of two word sets.
func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for w := range a {
		if b[w] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}
