package indexer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// maxTermRunes bounds one term: longer runs of letters (base64, hashes,
// minified code) are dropped rather than indexed.
const maxTermRunes = 64

// Terms splits text into lower-cased, accent-folded word tokens. A token is a
// run of Unicode letters or digits; everything else (spaces, punctuation,
// symbols) separates tokens. Accents are folded by NFD decomposition and removal
// of nonspacing marks ("Café" → "cafe", "ё" → "е"), so the same analysis applies
// to documents and to visitors' questions, in any script.
func Terms(text string) []string {
	text = fold(text)
	var terms []string
	start := -1
	for i, r := range text {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			terms = appendTerm(terms, text[start:i])
			start = -1
		}
	}
	if start >= 0 {
		terms = appendTerm(terms, text[start:])
	}
	return terms
}

// ContentTerms is Terms without stop words and single letters: the words of a
// question that carry its meaning. The retriever measures confidence with them.
func ContentTerms(text string) []string {
	var out []string
	for _, t := range Terms(text) {
		if IsStopWord(t) {
			continue
		}
		if r, n := utf8.DecodeRuneInString(t); n == len(t) && unicode.IsLetter(r) {
			continue // a lone letter: "s" of "what's", "t" of "don't"
		}
		out = append(out, t)
	}
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r)
}

func appendTerm(terms []string, t string) []string {
	if utf8.RuneCountInString(t) > maxTermRunes {
		return terms
	}
	return append(terms, t)
}

// fold lower-cases text and removes its accents.
func fold(text string) string {
	if isASCII(text) {
		return strings.ToLower(text)
	}
	// Lower-case first: "İ" lowers to "i" plus a combining dot, which the
	// fold then removes.
	text = strings.ToLower(text)
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, text)
	if err != nil {
		return text // input the transformer rejects: analyse it unfolded
	}
	return folded
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// minPrefixRunes is the shortest prefix that may stand for a word.
const minPrefixRunes = 4

// prefixSuffixes are inflectional endings, longest first, that
// MatchPrefix drops (mostly English; harmless elsewhere, since a shorter
// prefix only widens a match).
var prefixSuffixes = []string{"ations", "ation", "ings", "ing", "ions", "ion", "ies", "ers", "er", "ed", "es", "ly", "al", "s", "e"}

// MatchPrefix returns the prefix that the other forms of term start with,
// for prefix matching of questions against documents: term without one
// common inflectional ending and without a then-doubled final letter
// ("creating" → "creat", "invoices" → "invoic", "cancelled" → "cancel"), or
// term itself when no ending applies. It returns "" for terms shorter than
// four letters, which must match exactly. This is a stand-in for real
// stemming: a query-side widening that needs no change to the index.
func MatchPrefix(term string) string {
	n := utf8.RuneCountInString(term)
	if n < minPrefixRunes {
		return ""
	}
	for _, suf := range prefixSuffixes {
		if !strings.HasSuffix(term, suf) || n-len(suf) < minPrefixRunes {
			continue
		}
		stem := term[:len(term)-len(suf)]
		if k := len(stem); stem[k-1] == stem[k-2] && stem[k-1] < utf8.RuneSelf &&
			!strings.ContainsRune("aeios", rune(stem[k-1])) && utf8.RuneCountInString(stem) > minPrefixRunes {
			stem = stem[:k-1] // "cancell" → "cancel", "stopp" → "stop"
		}
		return stem
	}
	return term
}
