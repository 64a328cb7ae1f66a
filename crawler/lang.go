package crawler

import (
	"strings"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
	"golang.org/x/net/html"
)

// Language detection from text is a last resort, after <html lang> and the
// Content-Language header: short or mixed texts are left undetected.
const (
	minDetectWords      = 20   // fewer words than this are not detected
	minDetectConfidence = 0.5  // whatlanggo's confidence below this is a guess
	maxDetectBytes      = 4096 // the text's start is enough and keeps detection cheap
)

// DetectLang returns the ISO 639-1 code of text's language, or "" when the
// text is too short, the detector is unsure, or the language has no
// two-letter code.
func DetectLang(text string) string {
	if len(text) > maxDetectBytes {
		cut := maxDetectBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	if len(strings.Fields(text)) < minDetectWords {
		return ""
	}
	info := whatlanggo.Detect(text)
	if info.Lang < 0 || info.Confidence < minDetectConfidence {
		return ""
	}
	return info.Lang.Iso6391()
}

// langOf returns the primary language subtag of the nearest element, n
// itself included, with a lang (or xml:lang) attribute; "" when there is
// none or it is empty (unknown).
func langOf(n *html.Node) string {
	for ; n != nil; n = n.Parent {
		if n.Type != html.ElementNode {
			continue
		}
		for _, a := range n.Attr {
			if a.Key == "lang" || a.Key == "xml:lang" {
				return primaryTag(a.Val)
			}
		}
	}
	return ""
}

// relativeLang is lang as recorded on a Section or FAQ: "" when it is the
// page's language or unknown.
func relativeLang(lang, pageLang string) string {
	if lang == pageLang {
		return ""
	}
	return lang
}
