package llm

import (
	"sort"
	"strings"
	"unicode"
)

// MaxExtract is the most runes Extract returns.
const MaxExtract = 600

// extractPassages is how many of the best passages Extract looks at.
const extractPassages = 3

// Extract builds the answer given when no model is available: from the best
// passage (passages come best first) that shares words with the question, the
// one to three sentences sharing the most content words with the question,
// in their original order, quoted with the passage's title and link:
//
//	From "Title — Heading": "First sentence. Second sentence." (https://site/page#heading)
//
// followed by an "Also: …" line linking the next passage that matches, if
// any. When only the passage's title or heading matches, its first sentences
// are quoted. It returns "" when there are no passages or none shares a
// content word with the question. The result never exceeds MaxExtract runes
// (unless a single URL is longer than that).
func Extract(question string, passages []Passage) string {
	q := stems(question)
	if len(q) == 0 || len(passages) == 0 {
		return ""
	}
	if len(passages) > extractPassages {
		passages = passages[:extractPassages]
	}
	best := -1
	for i, p := range passages {
		if passageMatches(p, q) {
			best = i
			break
		}
	}
	if best < 0 {
		return ""
	}
	p := passages[best]
	name := truncate(label(p), 100)
	head := `From "` + name + `": "`
	tail := `" (` + p.URL + `)`

	// A second matching source gets a link line, when room is left for a
	// useful quote.
	also := ""
	for _, o := range passages[best+1:] {
		if o.URL != p.URL && passageMatches(o, q) {
			also = "\nAlso: \"" + truncate(label(o), 100) + "\" (" + o.URL + ")"
			break
		}
	}
	budget := MaxExtract - runes(head) - runes(tail)
	if budget-runes(also) >= 200 {
		budget -= runes(also)
	} else {
		also = ""
	}
	quote := pickSentences(sentences(p.Text), q, max(budget, 80))
	if quote == "" {
		return ""
	}
	answer := head + quote + tail + also
	return answer
}

// pickSentences joins the up to three sentences that share the most
// question stems (ties: the earlier), in text order, within budget runes.
// With no sentence matching, it takes the leading sentences.
func pickSentences(sents []string, q map[string]bool, budget int) string {
	type scored struct{ i, score int }
	var cands []scored
	for i, s := range sents {
		n := 0
		for st := range stems(s) {
			if q[st] {
				n++
			}
		}
		if n > 0 {
			cands = append(cands, scored{i, n})
		}
	}
	if len(cands) == 0 { // only the title or heading matched: quote the lead
		for i := range sents {
			cands = append(cands, scored{i, 1})
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	if len(cands) == 0 {
		return ""
	}

	top := cands[0].score
	chosen := []int{cands[0].i}
	used := runes(sents[cands[0].i])
	for _, c := range cands[1:] {
		if len(chosen) == 3 || 2*c.score < top {
			break
		}
		if n := runes(sents[c.i]) + 1; used+n <= budget {
			chosen = append(chosen, c.i)
			used += n
		}
	}
	sort.Ints(chosen)
	parts := make([]string, len(chosen))
	for k, i := range chosen {
		parts[k] = sents[i]
	}
	return truncate(strings.Join(parts, " "), budget)
}

func passageMatches(p Passage, q map[string]bool) bool {
	for st := range stems(p.Title + " " + p.Heading + " " + p.Text) {
		if q[st] {
			return true
		}
	}
	return false
}

// sentences splits text at sentence ends (. ! ? … followed by a space) and
// at line breaks, with whitespace collapsed; pieces without a letter or
// digit are dropped.
func sentences(text string) []string {
	var out []string
	add := func(s string) {
		s = strings.Join(strings.Fields(s), " ")
		if strings.IndexFunc(s, isWordRune) >= 0 {
			out = append(out, s)
		}
	}
	r := []rune(text)
	start := 0
	for i, c := range r {
		end := false
		switch c {
		case '\n':
			end = true
		case '.', '!', '?', '…', '。', '！', '？':
			end = i+1 == len(r) || unicode.IsSpace(r[i+1])
		}
		if end {
			add(string(r[start : i+1]))
			start = i + 1
		}
	}
	add(string(r[start:]))
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// stems returns the set of content-word stems of s: lower-cased runs of
// letters and digits, minus stop words, without a plural "s" and cut to
// five runes (a crude stemmer that also serves inflected languages:
// "subscription" and "subscribe", "подписка" and "подписку" meet).
func stems(s string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWordRune(r) }) {
		rs := []rune(w)
		if stopWords[w] || (len(rs) < 2 && !unicode.IsDigit(rs[0])) {
			continue
		}
		if len(rs) > 3 && rs[len(rs)-1] == 's' {
			rs = rs[:len(rs)-1]
		}
		if len(rs) > 5 {
			rs = rs[:5]
		}
		set[string(rs)] = true
	}
	return set
}

func runes(s string) int { return len([]rune(s)) }

// stopWords are frequent words that say nothing about a question's topic,
// mostly English with the commonest of the other languages sites use.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		a an the and or but if then of to in on at by for from with without about into over
		is are was were be been being am do does did doing done have has had having
		i me my we our you your he she it its they them their this that these those there here
		what which who whom whose when where why how can could should would will shall may might must
		not no yes so as than too very just also only any some all each more most much many
		get got don doesn didn isn aren cannot please thanks thank hi hello
		der die das und oder ist sind ein eine einen wie was ich wir sie es zu mit von für auf nicht kann
		le la les un une des et ou est sont je nous vous il elle de du en pour pas comment
		el los las y o es son yo que por para con como no se
		и в во на не что как я мы вы он она оно они с со по за из у к о это ли или а но
		ja on ei se mitä miten kuinka voi minä me te he ovat oli että kun jos tai`) {
		m[w] = true
	}
	return m
}()

// IsStopWord reports whether w (a lower-case word) is one of the frequent
// words that say nothing about a question's topic.
func IsStopWord(w string) bool { return stopWords[w] }
