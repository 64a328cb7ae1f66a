package indexer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"punctuation only", ` "'-*()!?.,;:`, nil},
		{"case and punctuation", "How do I CANCEL my subscription?", []string{"how", "do", "i", "cancel", "my", "subscription"}},
		{"apostrophe kept, hyphen split", "What's an e-mail?", []string{"whats", "an", "e", "mail"}},
		{"elision", "L'adresse d’un compte", []string{"adresse", "un", "compte"}},
		{"digits kept with letters", "Enable 2FA in v2.1", []string{"enable", "2fa", "in", "v2", "1"}},
		{"accents folded", "Café crème, naïve Ångström", []string{"cafe", "creme", "naive", "angstrom"}},
		{"german", "Über die Größe der Fußnoten", []string{"uber", "die", "grosse", "der", "fussnoten"}},
		{"finnish", "Miksi asiakasohjelmani pitäisi ajaa?", []string{"miksi", "asiakasohjelmani", "pitaisi", "ajaa"}},
		{"cyrillic", "Сколько стоят услуги Let's Encrypt? Ёлка", []string{"сколько", "стоят", "услуги", "lets", "encrypt", "елка"}},
		{"turkish dotted I", "İstanbul", []string{"istanbul"}},
		{"decomposed input", "cafe\u0301", []string{"cafe"}},
		{"fts syntax", `"foo" OR bar* NEAR(a b) -c ^d`, []string{"foo", "or", "bar", "near", "a", "b", "c", "d"}},
		{"cjk bigrams", "日本語のテキスト", []string{"日本", "本語", "語の", "のテ", "テキ", "キス", "スト"}},
		{"cjk unigram between latin", "a中b", []string{"a", "中", "b"}},
		{"underscore and symbols", "snake_case+plus=eq€", []string{"snake", "case", "plus", "eq"}},
		{"overlong token dropped", "ok " + strings.Repeat("x", 65) + " fine", []string{"ok", "fine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Terms(tt.in))
		})
	}
}

func TestContentTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"how do I cancel my subscription", []string{"cancel", "subscription"}},
		{"What's the weather in Paris?", []string{"weather", "paris"}},
		{"what is it", nil},
		{"Wie kann ich meine Rechnung herunterladen?", []string{"rechnung", "herunterladen"}},
		{"Какую техническую поддержку вы предлагаете?", []string{"какую", "техническую", "поддержку", "предлагаете"}},
		{"Ist das für mich?", nil}, // "für" is a stop word once folded
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, ContentTerms(tt.in))
		})
	}
}
