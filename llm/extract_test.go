package llm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExtract(t *testing.T) {
	billing := Passage{
		URL:     "https://example.com/billing#cancel",
		Title:   "Billing",
		Heading: "Cancel your subscription",
		Text: "We bill monthly or yearly. To cancel your subscription, open Settings and choose Billing. " +
			"Invoices are sent by email. After you cancel, your data stays available until the end of the paid period. " +
			"Our office is in Tallinn.",
	}
	refunds := Passage{
		URL:   "https://example.com/faq#refunds",
		Title: "FAQ",
		Text:  "Refunds for a cancelled subscription are possible within 30 days.",
	}
	unrelated := Passage{URL: "https://example.com/about", Title: "About us", Text: "We are a small team."}
	headingOnly := Passage{
		URL:     "https://example.com/account#delete",
		Title:   "Account",
		Heading: "Delete your account",
		Text:    "Go to Settings, then Danger zone, and press the red button. It asks you to confirm by typing your e-mail. This cannot be undone!",
	}
	long := Passage{URL: "https://example.com/long", Title: "Long", Text: "Cancel " + strings.Repeat("subscription words keep going ", 60) + "end."}
	russian := Passage{URL: "https://example.com/ru/faq", Title: "Вопросы", Text: "Мы работаем каждый день. Подписку можно отменить в настройках аккаунта."}

	tests := []struct {
		name     string
		question string
		passages []Passage
		want     string // exact, when set
		contains []string
		excludes []string
	}{
		{
			name:     "picks the matching sentences in order",
			question: "How can I cancel my subscription?",
			passages: []Passage{billing},
			want: `From "Billing — Cancel your subscription": "To cancel your subscription, open Settings and choose Billing. ` +
				`After you cancel, your data stays available until the end of the paid period." (https://example.com/billing#cancel)`,
		},
		{
			name:     "adds a second source that matches",
			question: "cancel subscription",
			passages: []Passage{billing, unrelated, refunds},
			contains: []string{`From "Billing — Cancel your subscription": "To cancel your subscription`, "\nAlso: \"FAQ\" (https://example.com/faq#refunds)"},
			excludes: []string{"Tallinn", "Invoices", "About us"},
		},
		{
			name:     "skips a best passage that shares no word",
			question: "refunds?",
			passages: []Passage{unrelated, refunds},
			want:     `From "FAQ": "Refunds for a cancelled subscription are possible within 30 days." (https://example.com/faq#refunds)`,
		},
		{
			name:     "quotes the lead when only the heading matches",
			question: "How do I delete my account?",
			passages: []Passage{headingOnly},
			contains: []string{`From "Account — Delete your account": "Go to Settings, then Danger zone, and press the red button.`},
		},
		{
			name:     "caps the length",
			question: "cancel subscription",
			passages: []Passage{long, refunds},
			contains: []string{"…\" (https://example.com/long)\nAlso: \"FAQ\" (https://example.com/faq#refunds)"},
		},
		{
			name:     "inflected words meet",
			question: "Как отменить подписку?",
			passages: []Passage{russian},
			want:     `From "Вопросы": "Подписку можно отменить в настройках аккаунта." (https://example.com/ru/faq)`,
		},
		{name: "no match", question: "What is the weather in Paris?", passages: []Passage{billing, unrelated}, want: ""},
		{name: "only stop words", question: "How do I?", passages: []Passage{billing}, want: ""},
		{name: "no passages", question: "cancel subscription", passages: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.question, tt.passages)
			assert.LessOrEqual(t, len([]rune(got)), MaxExtract)
			if tt.contains == nil {
				assert.Equal(t, tt.want, got)
			}
			for _, s := range tt.contains {
				assert.Contains(t, got, s)
			}
			for _, s := range tt.excludes {
				assert.NotContains(t, got, s)
			}
		})
	}
}

func TestSentences(t *testing.T) {
	got := sentences("First one. Second one!  Version 2.5 is out?\n- list item\n\nLast")
	assert.Equal(t, []string{"First one.", "Second one!", "Version 2.5 is out?", "- list item", "Last"}, got)
}
