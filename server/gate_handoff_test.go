package server

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/retriever"
)

func TestRepeatedFailureHandsOff(t *testing.T) {
	for _, tt := range []struct{ lang, q1, q2, q3 string }{
		{"en", "Do you sell pizza?", "What about pasta?", "And lasagne?"},
		{"de", "Verkaufen Sie Pizza?", "Und Nudeln?", "Wie ist das Wetter?"},
		{"fi", "Myyttekö pizzaa?", "Entä pastaa?", "Onko teillä lasagnea?"},
		{"ru", "Вы продаёте пиццу?", "А пасту?", "А лазанью?"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			conv := openConversations(t)
			s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: retriever.Result{}}, nil, conv)
			ask := func(q, id string) ChatResponse {
				resp, err := s.Answer(context.Background(), ChatRequest{Message: q, ConversationID: id}, nil)
				require.NoError(t, err)
				return resp
			}
			r1 := ask(tt.q1, "")
			r2 := ask(tt.q2, r1.ConversationID)
			for _, r := range []ChatResponse{r1, r2} {
				assert.True(t, r.Refused)
				assert.False(t, r.Handoff)
			}
			r3 := ask(tt.q3, r1.ConversationID)
			assert.True(t, r3.Handoff, "the third refusal in a row is a handoff")
			assert.False(t, r3.Refused)
			assert.Equal(t, ReasonRepeatedFailure, r3.HandoffReason)
			assert.Equal(t, canned[guessLang(tt.q3)].repeated, r3.Answer)
			// After the handoff the count starts again.
			r4 := ask(tt.q1, r1.ConversationID)
			assert.True(t, r4.Refused)
			assert.False(t, r4.Handoff)
		})
	}
}

func TestRepeatedFailureNeedsRefusalsInARow(t *testing.T) {
	conv := openConversations(t)
	ret := &fakeRetriever{result: retriever.Result{}}
	s := New(Config{Logger: quietLogger()}, ret, nil, conv)
	ask := func(q, id string) ChatResponse {
		resp, err := s.Answer(context.Background(), ChatRequest{Message: q, ConversationID: id}, nil)
		require.NoError(t, err)
		return resp
	}
	r1 := ask("Do you sell pizza?", "")
	ret.result = hits()
	r2 := ask("Where are my invoices?", r1.ConversationID) // answered
	require.False(t, r2.Refused)
	ret.result = retriever.Result{}
	r3 := ask("And pasta?", r1.ConversationID)
	assert.True(t, r3.Refused)
	assert.False(t, r3.Handoff, "refusals separated by an answer are not in a row")
	r4 := ask("And lasagne?", r1.ConversationID)
	assert.False(t, r4.Handoff, "only two in a row so far")
	r5 := ask("And soup?", r1.ConversationID)
	assert.True(t, r5.Handoff)
}

func TestParseHumanTopics(t *testing.T) {
	got, err := ParseHumanTopics(" refunds = refund | money back|chargeback , legal=lawyer|GDPR request,")
	require.NoError(t, err)
	assert.Equal(t, []HumanTopic{
		{Name: "refunds", Keywords: []string{"refund", "money back", "chargeback"}},
		{Name: "legal", Keywords: []string{"lawyer", "GDPR request"}},
	}, got)
	none, err := ParseHumanTopics("")
	require.NoError(t, err)
	assert.Empty(t, none)
	for _, bad := range []string{"refunds", "=refund", "refunds=", "refunds=|"} {
		_, err := ParseHumanTopics(bad)
		assert.Error(t, err, bad)
	}
}

func TestHumanTopics(t *testing.T) {
	topics, err := ParseHumanTopics("refunds=refund|money back|chargeback|Rückerstattung|rahat takaisin|возврат,legal=lawyer|lawsuit|GDPR request|Anwalt,complaints=complaint|complain")
	require.NoError(t, err)
	tests := []struct{ q, want string }{
		{"How do I get a refund?", "refunds"},
		{"I was refunded twice, why?", "refunds"},           // inflection
		{"Can I have my money back please", "refunds"},      // phrase
		{"I'll file chargebacks with my bank", "refunds"},   // plural
		{"Wie bekomme ich eine Rückerstattung?", "refunds"}, // German
		{"Haluan rahani takaisin", "refunds"},               // Finnish inflection of "rahat takaisin"
		{"Как оформить возврат денег?", "refunds"},          // Russian
		{"Хочу возврата", "refunds"},                        // Russian inflection
		{"My lawyers will contact you", "legal"},
		{"I am sending a GDPR request", "legal"},
		{"Mein Anwalt meldet sich", "legal"},
		{"I want to complain about the service", "complaints"},
		{"Where do I send complaints?", "complaints"},
		{"How do I add a goal?", ""},
		{"Is the money safe?", ""},            // one word of a phrase is not the phrase
		{"How do I go back to the list?", ""}, // neither
		{"GDPR compliance of the script", ""},
	}
	m := newTopicMatcher(topics)
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			assert.Equal(t, tt.want, m.match(tt.q))
		})
	}

	ret := &fakeRetriever{result: hits()}
	model := &fakeModel{tokens: []string{"Refunds are on the billing page."}}
	s := New(Config{HumanTopics: topics, Logger: quietLogger()}, ret, model, nil)
	resp, err := s.Answer(context.Background(), ChatRequest{Message: "Wie bekomme ich eine Rückerstattung?"}, nil)
	require.NoError(t, err)
	assert.True(t, resp.Handoff)
	assert.False(t, resp.Refused)
	assert.Equal(t, "topic:refunds", resp.HandoffReason)
	assert.Equal(t, canned["de"].handoff, resp.Answer)
	assert.Zero(t, ret.calls(), "not retrieved")
	assert.Empty(t, model.prompts(), "not answered by the model")

	// Without topics the same question is answered.
	s = New(Config{Logger: quietLogger()}, ret, model, nil)
	resp, err = s.Answer(context.Background(), ChatRequest{Message: "How do I get a refund?"}, nil)
	require.NoError(t, err)
	assert.False(t, resp.Handoff)
}

func TestRefusalLinksContactPage(t *testing.T) {
	const contact = "https://docs.example.com/contact"
	for _, q := range []string{"What is the capital of Peru?", "Was kostet eine Pizza in Berlin?", "Сколько стоит пицца?", "Paljonko pizza maksaa?"} {
		t.Run(q, func(t *testing.T) {
			conv := openConversations(t)
			s := New(Config{ContactURL: contact, Logger: quietLogger()}, &fakeRetriever{result: retriever.Result{}}, nil, conv)
			resp, err := s.Answer(context.Background(), ChatRequest{Message: q}, nil)
			require.NoError(t, err)
			text := canned[guessLang(q)]
			assert.True(t, resp.Refused)
			assert.Equal(t, text.refusal+" "+fmt.Sprintf(text.contact, contact), resp.Answer)
			assert.Equal(t, contact, resp.ContactURL)
			assert.Empty(t, resp.Sources, "sources stay the pages an answer came from")
			// A refusal with the link still counts as one: "yes" accepts its offer.
			yes, err := s.Answer(context.Background(), ChatRequest{Message: "yes", ConversationID: resp.ConversationID}, nil)
			require.NoError(t, err)
			assert.True(t, yes.Handoff)
		})
	}
	// Without a contact page, the refusal is the plain one.
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: retriever.Result{}}, nil, nil)
	resp, err := s.Answer(context.Background(), ChatRequest{Message: "What is the capital of Peru?"}, nil)
	require.NoError(t, err)
	assert.Equal(t, canned["en"].refusal, resp.Answer)
	assert.Empty(t, resp.ContactURL)
}

func TestContactPage(t *testing.T) {
	tests := []struct {
		name  string
		pages []PageRef
		want  string
	}{
		{"path", []PageRef{{"https://x.test/docs/billing.html", "Billing"}, {"https://x.test/contact.html", "Get in touch"}}, "https://x.test/contact.html"},
		{"title only", []PageRef{{"https://x.test/a", "Billing"}, {"https://x.test/p/17", "Contact support | Docs"}}, "https://x.test/p/17"},
		{"path beats title", []PageRef{{"https://x.test/docs/support-plans", "Support plans"}, {"https://x.test/kontakt/", "Schreiben Sie uns"}}, "https://x.test/kontakt/"},
		{"finnish", []PageRef{{"https://x.test/fi/yhteystiedot", "Yhteystiedot"}, {"https://x.test/fi/hinnat", "Hinnat"}}, "https://x.test/fi/yhteystiedot"},
		{"russian", []PageRef{{"https://x.test/ru/%D0%BA%D0%BE%D0%BD%D1%82%D0%B0%D0%BA%D1%82%D1%8B", "Контакты"}}, "https://x.test/ru/%D0%BA%D0%BE%D0%BD%D1%82%D0%B0%D0%BA%D1%82%D1%8B"},
		{"spanish, shallower wins", []PageRef{{"https://x.test/es/ayuda/contacto", "Contacto"}, {"https://x.test/contacto", "Contacto"}}, "https://x.test/contacto"},
		{"contact-us", []PageRef{{"https://x.test/company/contact-us.html", "Company"}}, "https://x.test/company/contact-us.html"},
		{"none", []PageRef{{"https://x.test/docs/contacts-api.html", "The Contacts API"}, {"https://x.test/", "Home"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ContactPage(tt.pages))
		})
	}
}
