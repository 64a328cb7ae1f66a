package server

import (
	"fmt"
	"strings"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/llm"
)

// More handoff reasons reported in ChatResponse.HandoffReason: the bot
// refused several times in a row, or the question is on a topic that the
// operator wants people to handle (TopicReasonPrefix + the topic's name).
const (
	ReasonRepeatedFailure = "repeated_failure"
	TopicReasonPrefix     = "topic:"
)

// refusalsBeforeHandoff is how many refusals in a row a conversation may
// hold before the next refusal becomes a handoff: two failures are enough
// for a visitor to stop rephrasing.
const refusalsBeforeHandoff = 2

// HumanTopic is a topic that only people answer (Config.HumanTopics):
// refunds, legal questions, complaints. A question that uses one of
// Keywords (a word or a phrase, matched after stemming in every stemmed
// language, so "refunds" and "refunded" match "refund") is handed off.
type HumanTopic struct {
	Name     string
	Keywords []string
}

// ParseHumanTopics parses the --human-topics syntax:
//
//	name=word|word phrase|word,name2=word
//
// Topics are separated by commas, a topic's name from its keywords by "=",
// keywords by "|"; spaces around each part are ignored and a keyword may be
// a phrase ("money back"). An empty string means no topics.
func ParseHumanTopics(s string) ([]HumanTopic, error) {
	var out []HumanTopic
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, words, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("topic %q: want name=word|word", strings.TrimSpace(part))
		}
		t := HumanTopic{Name: name}
		for _, w := range strings.Split(words, "|") {
			if w = strings.TrimSpace(w); w != "" {
				t.Keywords = append(t.Keywords, w)
			}
		}
		if len(t.Keywords) == 0 {
			return nil, fmt.Errorf("topic %q has no keywords", name)
		}
		out = append(out, t)
	}
	return out, nil
}

// topicLangs are the analyses a question and a keyword are compared in:
// without stemming, and stemmed in every language the indexer stems (a
// visitor's language is not known; a keyword and a word that share a stem
// in any of them match).
var topicLangs = append([]string{""}, indexer.StemmedLanguages()...)

// topicMatcher finds the first human-only topic that a question names.
type topicMatcher struct {
	names   []string
	phrases [][][][]string // topic → keyword → language → terms
}

func newTopicMatcher(topics []HumanTopic) *topicMatcher {
	m := &topicMatcher{}
	for _, t := range topics {
		var kws [][][]string
		for _, k := range t.Keywords {
			var byLang [][]string
			for _, l := range topicLangs {
				byLang = append(byLang, analyzeIn(k, l))
			}
			kws = append(kws, byLang)
		}
		m.names = append(m.names, t.Name)
		m.phrases = append(m.phrases, kws)
	}
	return m
}

// match returns the name of the first topic one of whose keywords occurs in
// question (as consecutive words, in one analysis), or "".
func (m *topicMatcher) match(question string) string {
	if m == nil || len(m.names) == 0 {
		return ""
	}
	q := make([][]string, len(topicLangs))
	for i, l := range topicLangs {
		q[i] = analyzeIn(question, l)
	}
	for ti, kws := range m.phrases {
		for _, byLang := range kws {
			for li, phrase := range byLang {
				if containsRun(q[li], phrase) {
					return m.names[ti]
				}
			}
		}
	}
	return ""
}

// analyzeIn is indexer.AnalyzeDoc in lang, or without stemming for "".
func analyzeIn(text, lang string) []string {
	if lang == "" {
		return indexer.Tokens(strings.ToLower(text))
	}
	return indexer.AnalyzeDoc(text, lang)
}

// containsRun reports whether run occurs in terms as consecutive terms.
func containsRun(terms, run []string) bool {
	if len(run) == 0 {
		return false
	}
outer:
	for i := 0; i+len(run) <= len(terms); i++ {
		for j, r := range run {
			if terms[i+j] != r {
				continue outer
			}
		}
		return true
	}
	return false
}

// humanOnly hands the conversation off when question names one of the
// operator's human-only topics, before any retrieval: such a question is
// not answered from the pages even when they mention the topic.
func (s *Server) humanOnly(question string, text replies, resp *ChatResponse) bool {
	name := s.topics.match(question)
	if name == "" {
		return false
	}
	resp.Answer, resp.Handoff, resp.HandoffReason = text.handoff, true, TopicReasonPrefix+name
	return true
}

// escalate finishes a refusal: the third refusal in a row (after
// refusalsBeforeHandoff of them in history) becomes a handoff, and a
// refusal points at the site's contact page when there is one
// (Config.ContactURL), in the answer and in resp.ContactURL.
func (s *Server) escalate(history []llm.Message, text replies, resp *ChatResponse) {
	if !resp.Refused || resp.Handoff {
		return
	}
	if refusalsInARow(history) >= refusalsBeforeHandoff {
		resp.Answer, resp.Refused = text.repeated, false
		resp.Handoff, resp.HandoffReason = true, ReasonRepeatedFailure
	}
	if s.cfg.ContactURL != "" {
		resp.ContactURL = s.cfg.ContactURL
		resp.Answer += " " + fmt.Sprintf(text.contact, s.cfg.ContactURL)
	}
}

// refusalsInARow counts the refusals among the latest assistant turns of
// history, up to the first one that is not a refusal.
func refusalsInARow(history []llm.Message) int {
	n := 0
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		if m.Role != conversation.RoleAssistant {
			continue
		}
		if !isRefusal(m.Content) {
			break
		}
		n++
	}
	return n
}
