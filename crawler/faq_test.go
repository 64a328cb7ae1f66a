package crawler

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExtractFAQPatterns(t *testing.T) {
	tests := []struct {
		file string
		lang string
		want []FAQ
	}{
		{"faq_microdata.html", "en", []FAQ{
			// The microdata text wins over the same question as a heading, whose anchor it takes.
			{Question: "How do I reset the password of my account", Answer: "Click Forgot password on the login page.\nThe link is valid for one hour.", Anchor: "reset"},
			{Question: "Can I delete my account?", Answer: "Yes, under Settings > Danger zone.", Anchor: "delete"},
		}},
		{"faq_jsonld.html", "en", []FAQ{
			{Question: "Is billing based per account or per website?", Answer: "Per account.", Anchor: "per-account"},
			{Question: "What payment methods does Acme accept?", Answer: "Cards and PayPal.", Anchor: "methods"},
			{Question: "How do I get an invoice?", Answer: "By e-mail after each payment."},
			{Question: "How do I add my VAT number?", Answer: "At checkout.", Anchor: "add-vat"},
			{Question: "How do I change my VAT number?", Answer: "Resubscribe with the new number.", Anchor: "change-vat"},
		}},
		{"faq_headings_en.html", "en", []FAQ{
			{Question: "How do I install the script?", Anchor: "install",
				Answer: "Paste the snippet into your <head>.\nOn WordPress\nUse the plugin.\nMultisite\nActivate it network-wide."},
			{Question: "How to cancel your plan", Anchor: "cancel",
				Answer: "- Open Settings.\n- Click Cancel.\nCan I get a refund?\nWithin 30 days."},
			{Question: "Can I get a refund?", Answer: "Within 30 days.", Anchor: "refund"},
		}},
		{"faq_headings_de.html", "de", []FAQ{
			{Question: "Wie kündige ich mein Abo", Answer: "Unter Einstellungen auf Kündigen klicken.", Anchor: "kuendigen"},
			{Question: "Was kostet der Versand?", Answer: "Der Versand ist ab 50 Euro kostenlos.", Anchor: "versand"},
			{Question: "How do I pay?", Answer: "By card.", Anchor: "pay", Lang: "en"},
		}},
		{"faq_headings_es.html", "es", []FAQ{
			// Several <h1>s: each is a section heading, and may be a question.
			{Question: "¿Cómo puedo pagar?", Answer: "Con tarjeta o transferencia.", Anchor: "pagar"},
			{Question: "Cómo cambiar mi contraseña", Answer: "En la página de perfil.", Anchor: "contrasena"},
			{Question: "Por qué usamos cookies propias", Answer: "Para recordar tu idioma.", Anchor: "porque"},
		}},
		{"faq.html", "en", []FAQ{ // JSON-LD, <details> and <dl>
			{Question: "How long does shipping take?", Answer: "Orders ship in 2–3 days. Express is faster.", Anchor: "shipping-time"},
			{Question: "Do you ship abroad?", Answer: "Yes, to 40 countries."},
			{Question: "Can I return an item?", Answer: "Within 30 days."},
			{Question: "When do I get my refund?", Answer: "Within 5 days of receiving the item.", Anchor: "refund"},
			{Question: "Who pays return shipping?", Answer: "- We do, for defects.\n- You do, otherwise.", Anchor: "returns"},
			{Question: "Can I track my parcel?", Answer: "Yes, with the link in the e-mail.", Anchor: "dt-track"},
			{Question: "Is insurance included?", Answer: "Up to 500 EUR.\nMore on request.", Anchor: "terms"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ex := extractFile(t, tt.file, nil)
			assert.Equal(t, tt.lang, ex.page.Lang)
			assert.Equal(t, tt.want, ex.page.FAQs)
		})
	}
}

func TestIsQuestion(t *testing.T) {
	tests := []struct {
		text, lang string
		want       bool
	}{
		{"How do I get an invoice?", "en", true},
		{"How to cancel your plan", "en", true},
		{"What payment methods do you accept", "en", true},
		{"What's new", "en", false},
		{"What's new in version 2", "en", false}, // a title
		{"What's in account settings", "en", false},
		{"What's the difference between goals and events", "en", true},
		{"Where’s my invoice for March", "en", true},
		{"How it works", "en", false},
		{"How funnel conversions are counted", "en", false},
		{"Why 404 tracking matters", "en", false},
		{"Why you might still see bot traffic", "en", false},
		{"What happens after you cancel", "en", true},
		{"How much does it cost", "en", true},
		{"Why does my chart look empty", "en", true},
		{"Which option fits you", "en", true},
		{"Can I pay by invoice", "en", true},
		{"What's next?", "en", true},
		{"Introduction", "en", false},
		{"Billing", "en", false},
		{"Do not track visitors", "en", false},
		{"Billing FAQ", "en", false},
		{"Is it free？", "", true},
		{"¿Cómo puedo pagar", "es", true},
		{"Por qué usamos cookies", "es", true},
		{"Dónde está mi pedido", "es", true},
		{"Wie kündige ich mein Abo", "de", true},
		{"Gibt es eine Testversion", "de", true},
		{"Preise und Pakete", "de", false},
		{"Comment changer mon mot de passe", "fr", true},
		{"Est-ce que c'est gratuit", "fr", true},
		{"Où trouver ma facture", "fr", true},
		{"Miten vaihdan salasanan", "fi", true},
		{"Voiko tilauksen perua", "fi", true},
		{"Как сменить пароль", "ru", true},
		{"Есть ли пробный период", "ru", true},
		{"Нужно ли платить за поддержку", "ru", true},
		{"Общие вопросы", "ru", false},
		{"Hur byter jag lösenord", "sv", true},
		{"Var hittar jag fakturan", "sv", true},
		{"Comment moderation settings", "en", false}, // a French question word, in English
		{"Comment moderation settings", "", true},    // unknown language: all lists count
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.text, func(t *testing.T) {
			assert.Equal(t, tt.want, isQuestion(tt.text, tt.lang))
		})
	}
}

func TestMergeFAQs(t *testing.T) {
	q := func(src faqSource, question, answer, anchor string) faqItem {
		return faqItem{FAQ{Question: question, Answer: answer, Anchor: anchor}, src}
	}
	tests := []struct {
		name string
		in   []faqItem
		want []FAQ
	}{
		{"exact, structured first whatever the order",
			[]faqItem{q(fromHeading, "How do I pay?", "Section text.", "pay"), q(fromStructured, "How do I pay?", "By card.", "")},
			[]FAQ{{Question: "How do I pay?", Answer: "By card.", Anchor: "pay"}}},
		{"case and punctuation",
			[]faqItem{q(fromStructured, "how do I pay", "By card.", ""), q(fromHeading, "How do I pay?", "Section text.", "pay")},
			[]FAQ{{Question: "how do I pay", Answer: "By card.", Anchor: "pay"}}},
		{"the heading's anchor wins",
			[]faqItem{q(fromStructured, "Can I pay by card?", "Yes.", "q1"), q(fromHeading, "Can I pay by card?", "Yes, all cards.", "card")},
			[]FAQ{{Question: "Can I pay by card?", Answer: "Yes.", Anchor: "card"}}},
		{"reworded",
			[]faqItem{q(fromStructured, "What payment methods does Acme accept?", "Cards.", ""), q(fromHeading, "What payment methods do you accept?", "Cards, PayPal.", "methods")},
			[]FAQ{{Question: "What payment methods does Acme accept?", Answer: "Cards.", Anchor: "methods"}}},
		{"similar but different questions stay apart",
			[]faqItem{q(fromHeading, "How do I add my VAT number?", "At checkout.", "add"), q(fromHeading, "How do I change my VAT number?", "Resubscribe.", "change")},
			[]FAQ{{Question: "How do I add my VAT number?", Answer: "At checkout.", Anchor: "add"}, {Question: "How do I change my VAT number?", Answer: "Resubscribe.", Anchor: "change"}}},
		{"one structured question absorbs one reworded heading",
			[]faqItem{
				q(fromStructured, "How can I change the VAT number?", "In settings.", ""),
				q(fromHeading, "How do I change my VAT number?", "A.", "a"),
				q(fromHeading, "How do I change the VAT number quickly?", "B.", "b"),
			},
			[]FAQ{{Question: "How can I change the VAT number?", Answer: "In settings.", Anchor: "a"}, {Question: "How do I change the VAT number quickly?", Answer: "B.", Anchor: "b"}}},
		{"empty answers go", []faqItem{q(fromMarkup, "Why?", "", "")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mergeFAQs(tt.in))
		})
	}
}

func TestIsSchemaType(t *testing.T) {
	for _, it := range []string{"https://schema.org/FAQPage", "http://schema.org/FAQPage", "https://www.schema.org/FAQPage", " http://www.schema.org/FAQPage/ ", "https://schema.org/WebPage https://schema.org/FAQPage"} {
		assert.True(t, isSchemaType(it, "FAQPage"), it)
	}
	for _, it := range []string{"", "https://schema.org/Question", "https://example.com/FAQPage", "FAQPage"} {
		assert.False(t, isSchemaType(it, "FAQPage"), it)
	}
}
