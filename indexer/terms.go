package indexer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxTermRunes bounds one term: longer runs of letters (base64, hashes,
// minified code) are dropped rather than indexed.
const maxTermRunes = 64

// Terms returns the words of text (Tokens), folded but not stemmed: lower
// case, no accents, no apostrophes, French and Italian elisions removed
// ("L'adresse e-mail" → "adresse", "e", "mail"). It compares texts
// regardless of case, accents and punctuation; index terms come from
// AnalyzeDoc and AnalyzeQuery.
func Terms(text string) []string {
	var out []string
	for _, tok := range Tokens(text) {
		if t := stemFold(tok, ""); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// ContentTerms returns the Word of every term of AnalyzeQuery(text, nil):
// Terms without stop words and single letters.
//
// Deprecated: use AnalyzeQuery, whose terms carry the stems that match the
// index.
func ContentTerms(text string) []string {
	var out []string
	for _, t := range AnalyzeQuery(text, nil) {
		out = append(out, t.Word)
	}
	return out
}

// foldScripts are the scripts whose combining marks are accents that
// visitors may leave out; in others (Devanagari, Thai, ...) marks are part
// of the spelling and stay.
var foldScripts = []*unicode.RangeTable{unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew}

// fold removes the accents of lower-case text ("café" → "cafe", "ё" → "е",
// "i̇" → "i") and spells "ß" as "ss" and final "ς" as "σ".
func fold(text string) string {
	if isASCII(text) {
		return text
	}
	d := norm.NFD.String(text)
	var b strings.Builder
	b.Grow(len(d))
	drop := false // whether marks after the current base letter are dropped
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			if !drop {
				b.WriteRune(r)
			}
			continue
		}
		drop = unicode.In(r, foldScripts...)
		switch r {
		case 'ß':
			b.WriteString("ss")
		case 'ς':
			b.WriteRune('σ')
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
