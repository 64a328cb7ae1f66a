package indexer

import (
	"hash/fnv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/norwegian"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/swedish"
	"golang.org/x/text/unicode/norm"

	"github.com/sitebot/sitebot/crawler"
)

// Text analysis shared by every index backend: documents and questions go
// through the same steps, so that a question's terms are spelt like the
// indexed ones.
//
//  1. Segmentation (Tokens): NFC, lower case; a word is a run of letters,
//     marks and digits. An apostrophe (', ’) between two letters stays inside
//     the word ("don't", "l'adresse"); hyphens, underscores and every other
//     symbol separate words ("e-mail" → "e", "mail"). Han, Hiragana and
//     Katakana, written without spaces, give overlapping bigrams ("日本語" →
//     "日本", "本語"; a lone character stays a unigram). Other scripts without
//     spaces (Thai, Khmer, ...) give whole runs. Words over 64 runes (hashes,
//     base64) are dropped.
//  2. Elision: a French or Italian elided article or pronoun is dropped
//     ("l'adresse" → "adresse", "qu'est" → "est", "dell'account" →
//     "account"), whatever the language, since a question's language is
//     seldom known.
//  3. Stemming with the Snowball stemmer of the text's language (see
//     StemmedLanguages); English also loses "'s". Russian "ё" is read as
//     "е" first. Text in another or an unknown language is not stemmed.
//  4. Folding, after stemming so that the stemmers see the letters their
//     rules are written for: apostrophes removed ("don't" → "dont"),
//     accents of Latin, Greek, Cyrillic, Arabic and Hebrew letters removed
//     ("fakturor" → "faktur", "pitäisi" → "pitaisi", "счёт" → "счет"), "ß" →
//     "ss". Finnish and Swedish lose their ä/ö/å distinctions here on
//     purpose: the stemmers have used them, and visitors often type "a" for
//     "ä"; the words that then collide are few. Marks of other scripts
//     (Devanagari viramas, Thai vowels) are letters there and stay.
//
// Stop words are not removed from documents (a word that is a function
// word in one language can be the subject in another, and the index stays
// independent of the lists); questions lose them (AnalyzeQuery).

// AnalyzerVersion identifies the analysis above. Every change to what
// AnalyzeDoc or AnalyzeQuery return must increase it: an index stores
// analysed terms, and one built with another version is re-indexed by the
// next crawl (see Indexer.Crawl and CheckAnalyzer). Version 1 was the
// unstemmed analysis of indexer.Terms with prefix queries.
const AnalyzerVersion = 2

// stemmers are the Snowball stemmers by ISO 639-1 code.
var stemmers = map[string]func(*snowballstem.Env) bool{
	"da": danish.Stem,
	"de": german.Stem,
	"en": english.Stem,
	"es": spanish.Stem,
	"fi": finnish.Stem,
	"fr": french.Stem,
	"it": italian.Stem,
	"nb": norwegian.Stem,
	"nl": dutch.Stem,
	"nn": norwegian.Stem,
	"no": norwegian.Stem,
	"pt": portuguese.Stem,
	"ru": russian.Stem,
	"sv": swedish.Stem,
}

// stemmedLanguages is the sorted list of the languages AnalyzeQuery tries
// when it does not know which ones the index holds.
var stemmedLanguages = []string{"da", "de", "en", "es", "fi", "fr", "it", "nl", "no", "pt", "ru", "sv"}

// StemmedLanguages returns the ISO 639-1 codes of the languages whose words
// are stemmed ("nb" and "nn" are stemmed as "no").
func StemmedLanguages() []string { return append([]string(nil), stemmedLanguages...) }

// normLang returns the primary subtag of lang, lower-cased ("en-US" → "en"),
// with Norwegian's variants as "no"; "" when lang has no stemmer.
func normLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	switch lang {
	case "nb", "nn":
		return "no"
	}
	if stemmers[lang] == nil {
		return ""
	}
	return lang
}

// DocLang returns the language text is analysed in: lang when it has a
// stemmer ("en-GB" → "en"); when lang is "" (unknown), the language
// crawler detects in text (crawler.DetectLang: long enough text, a sure
// detection) when it has a stemmer; else "" (no stemming). A known language without a
// stemmer is not second-guessed.
func DocLang(text, lang string) string {
	if strings.TrimSpace(lang) != "" {
		return normLang(lang)
	}
	return normLang(crawler.DetectLang(text))
}

// ChunkLang is the language a chunk is analysed in: DocLang of its title,
// heading and text together, with the chunk's Lang.
func ChunkLang(c Chunk) string {
	if strings.TrimSpace(c.Lang) != "" {
		return normLang(c.Lang)
	}
	return DocLang(c.Title+"\n"+c.Heading+"\n"+c.Text, "")
}

// AnalyzeChunk returns the index terms of a chunk's title, heading and text,
// all analysed in ChunkLang(c). It is what an index backend stores for the
// chunk, and what the retriever compares questions with.
func AnalyzeChunk(c Chunk) (title, heading, text []string) {
	lang := ChunkLang(c)
	return analyze(c.Title, lang), analyze(c.Heading, lang), analyze(c.Text, lang)
}

// AnalyzeDoc returns the index terms of text written in lang (an ISO 639-1
// code or a BCP 47 tag; "" when unknown, see DocLang): its words, stemmed
// and folded, in order, stop words included.
func AnalyzeDoc(text, lang string) []string {
	return analyze(text, DocLang(text, lang))
}

// analyze is AnalyzeDoc in a language already resolved ("" = no stemming).
func analyze(text, lang string) []string {
	var out []string
	for _, tok := range Tokens(text) {
		if t := stemFold(tok, lang); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Term is one word of a question and the index terms it may match.
type Term struct {
	// Word is the word as the visitor wrote it, folded (lower case, no
	// accents, no apostrophes, elision removed).
	Word string
	// Alts are the index terms that stand for the word, distinct, never
	// empty: Word itself (as a document in an unstemmed language holds it),
	// then its stem in each candidate language. A document matches the word
	// when it holds any of them.
	Alts []string
}

// AnalyzeQuery returns the content words of a question, in order and
// distinct, each with its alternatives: stop words (of every list, since a
// question's language is seldom known) and single letters are left out.
//
// langs are the languages the indexed documents are written in (Chunk.Lang
// values, or DocLang results): a word gets its stem in each. An empty,
// unknown or unstemmed language among them (a chunk whose language was
// detected, or not) stands for every stemmed language, as does an empty
// langs. The query's own language is not detected: a question is too short
// for that, and a visitor may ask in English on a German site.
func AnalyzeQuery(text string, langs []string) []Term {
	return analyzeQuery(text, langs, false)
}

// AnalyzeQueryWords is AnalyzeQuery with every word, stop words and single
// letters included (for comparing a question with a heading word by word).
func AnalyzeQueryWords(text string, langs []string) []Term {
	return analyzeQuery(text, langs, true)
}

func analyzeQuery(text string, langs []string, all bool) []Term {
	cands := queryLangs(langs)
	var out []Term
	seen := make(map[string]bool)
	for _, tok := range Tokens(text) {
		tok = elide(tok)
		if !all && (stopWords[fold(tok)] || isLoneLetter(tok)) {
			continue
		}
		word := stemFold(tok, "")
		if word == "" || seen[word] {
			continue
		}
		seen[word] = true
		t := Term{Word: word, Alts: []string{word}}
		for _, l := range cands {
			if s := stemFold(tok, l); s != "" && !contains(t.Alts, s) {
				t.Alts = append(t.Alts, s)
			}
		}
		out = append(out, t)
	}
	return out
}

// queryLangs resolves AnalyzeQuery's langs to the stemmed languages to try.
func queryLangs(langs []string) []string {
	var out []string
	for _, l := range langs {
		n := normLang(l)
		if n == "" {
			return stemmedLanguages
		}
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return stemmedLanguages
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// isLoneLetter reports whether tok is one letter of an alphabet ("s" of
// "what s"); a lone Han character is a word.
func isLoneLetter(tok string) bool {
	r, n := utf8.DecodeRuneInString(tok)
	return n == len(tok) && unicode.IsLetter(r) && !isCJK(r)
}

// TermID maps an index term to a 32-bit id (FNV-1a of its UTF-8 bytes), for
// backends that index terms by number (Qdrant's sparse vectors). Distinct
// terms may collide, rarely; a backend sums the weights of colliding terms.
func TermID(term string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(term))
	return h.Sum32()
}

// Tokens segments text into words (step 1 above): lower-cased NFC words,
// apostrophes (normalised to ') kept inside words, CJK as bigrams. It
// neither folds nor stems.
func Tokens(text string) []string {
	if !isASCII(text) {
		text = norm.NFC.String(text)
	}
	text = strings.ToLower(text)
	var out []string
	emit := func(w string) {
		if utf8.RuneCountInString(w) <= maxTermRunes {
			out = append(out, w)
		}
	}
	var word strings.Builder
	var cjk []rune
	flushCJK := func() {
		switch len(cjk) {
		case 0:
		case 1:
			emit(string(cjk))
		default:
			for i := 0; i+1 < len(cjk); i++ {
				emit(string(cjk[i : i+2]))
			}
		}
		cjk = cjk[:0]
	}
	flushWord := func() {
		if word.Len() > 0 {
			emit(word.String())
			word.Reset()
		}
	}
	var prev rune // the previous rune of text
	for i, r := range text {
		switch {
		case isCJK(r):
			flushWord()
			cjk = append(cjk, r)
		case isWordRune(r):
			flushCJK()
			word.WriteRune(r)
		case isApostrophe(r) && word.Len() > 0 && unicode.IsLetter(prev):
			next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
			if unicode.IsLetter(next) && !isCJK(next) {
				word.WriteByte('\'')
			} else {
				flushWord()
			}
		default:
			flushCJK()
			flushWord()
		}
		prev = r
	}
	flushCJK()
	flushWord()
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// elisions are the French and Italian words that lose their vowel before
// another word ("l'", "qu'", "dell'"), as they appear before the apostrophe.
var elisions = map[string]bool{
	"l": true, "d": true, "j": true, "m": true, "n": true, "s": true, "t": true, "c": true,
	"qu": true, "jusqu": true, "lorsqu": true, "puisqu": true, "quoiqu": true, "presqu": true,
	"un": true, "dell": true, "all": true, "dall": true, "nell": true, "sull": true,
	"quell": true, "quest": true,
}

// elide drops an elided article or pronoun from the front of tok.
func elide(tok string) string {
	i := strings.IndexByte(tok, '\'')
	if i > 0 && elisions[tok[:i]] {
		return tok[i+1:]
	}
	return tok
}

// stemFold runs steps 2 to 4 on one token: elision, stemming in lang ("" =
// none), folding.
func stemFold(tok, lang string) string {
	tok = elide(tok)
	if lang != "" && !isDigits(tok) {
		tok = stem(tok, lang)
	}
	return fold(strings.ReplaceAll(tok, "'", ""))
}

// stem returns the Snowball stem of the lower-case word w in lang, or w
// itself when a stemmer fails on it.
func stem(w, lang string) (s string) {
	fn := stemmers[lang]
	if fn == nil {
		return w
	}
	if lang == "ru" {
		w = strings.ReplaceAll(w, "ё", "е")
	}
	defer func() {
		if recover() != nil { // generated code; a word it cannot handle stays whole
			s = w
		}
	}()
	env := snowballstem.NewEnv(w)
	fn(env)
	if s = env.Current(); s == "" {
		return w
	}
	return s
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
