package server

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/retriever"
)

func TestFollowUpQuery(t *testing.T) {
	prev := []llm.Message{{Role: "user", Content: "What does the Business plan include?"}, {Role: "assistant", Content: "It includes ..."}}
	tests := []struct {
		question      string
		strong, short bool
	}{
		{"and how much does it cost?", true, true},
		{"How much does it cost?", true, true},
		{"what about for teams?", true, true},
		{"und wie teuer ist das?", true, true},
		{"et pour les équipes ?", true, true},
		{"y cuánto cuesta?", true, true},
		{"ja paljonko se maksaa?", true, true},
		{"и сколько это стоит?", true, true},
		{"och vad kostar det?", true, true},
		{"Team pricing?", false, true},
		{"How do I export my analytics data as a CSV file from the dashboard?", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			q, strong, short := followUpQuery(tt.question, prev)
			assert.Equal(t, tt.strong, strong, "strong")
			assert.Equal(t, tt.short, short, "short")
			if strong || short {
				assert.True(t, strings.HasPrefix(q, tt.question))
				assert.Contains(t, q, "business")
				assert.Contains(t, q, "plan")
				assert.NotContains(t, q, " what ")
			}
		})
	}
	q, strong, _ := followUpQuery("and the price?", nil)
	assert.Empty(t, q, "no history, no rewrite")
	assert.False(t, strong)
}

// topicRetriever finds the billing page only when the query names it, and
// records the queries it got.
type topicRetriever struct {
	mu      sync.Mutex
	queries []string
}

func (r *topicRetriever) Retrieve(_ context.Context, q string, _ int) (retriever.Result, error) {
	r.mu.Lock()
	r.queries = append(r.queries, q)
	r.mu.Unlock()
	if !strings.Contains(strings.ToLower(q), "invoice") {
		return retriever.Result{}, nil
	}
	return retriever.Result{Confidence: 0.9, Hits: []indexer.Hit{{Chunk: indexer.Chunk{
		URL: "https://docs.example.com/billing#invoices", Title: "Billing", Heading: "Invoices",
		Text: "Invoices can be downloaded as PDF from the billing page. They cost nothing extra."}, Score: 2}}}, nil
}

func TestFollowUpRetrievesThePreviousTopic(t *testing.T) {
	ret := &topicRetriever{}
	model := &fakeModel{tokens: []string{"They are free [1]."}}
	s := New(Config{Logger: quietLogger()}, ret, model, openConversations(t))

	first, err := s.Answer(t.Context(), ChatRequest{Message: "Where can I download my invoices?"}, nil)
	require.NoError(t, err)
	require.False(t, first.Refused)

	second, err := s.Answer(t.Context(), ChatRequest{Message: "and how much does that cost?", ConversationID: first.ConversationID}, nil)
	require.NoError(t, err)
	assert.False(t, second.Refused, "the rewritten question finds the first turn's page")
	require.NotEmpty(t, second.Sources)
	assert.Equal(t, "https://docs.example.com/billing#invoices", second.Sources[0].URL)

	require.Len(t, ret.queries, 2)
	assert.Equal(t, "Where can I download my invoices?", ret.queries[0])
	assert.True(t, strings.HasPrefix(ret.queries[1], "and how much does that cost?"))
	assert.Contains(t, ret.queries[1], "invoices")
	assert.Contains(t, ret.queries[1], "download")

	// The prompt has the visitor's own words.
	prompts := model.prompts()
	last := prompts[len(prompts)-1]
	assert.True(t, strings.HasSuffix(last[len(last)-1].Content, "Question: and how much does that cost?"))

	// A short question without follow-up words is first searched as asked,
	// then, when that finds nothing, with the previous topic.
	third, err := s.Answer(t.Context(), ChatRequest{Message: "PDF only?", ConversationID: first.ConversationID}, nil)
	require.NoError(t, err)
	assert.False(t, third.Refused)
	require.Len(t, ret.queries, 4)
	assert.Equal(t, "PDF only?", ret.queries[2])
	assert.Contains(t, ret.queries[3], "PDF only? ")
}
