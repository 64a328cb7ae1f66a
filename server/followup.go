package server

import (
	"strings"
	"unicode"

	"github.com/sitebot/sitebot/llm"
)

// Follow-up questions ("and how much does it cost?", "what about teams?",
// "und wie teuer ist das?") lean on the previous question for their topic,
// which retrieval cannot see. Before retrieval they are rewritten, without
// a model: the content words of the previous user question are appended.
// Only the retrieval query changes; the prompt gets the visitor's words
// (and the history, which holds the context).
//
// A question is taken for a follow-up when it is short and starts with a
// conjunction or "what/how about" (in the languages sites commonly use), or
// holds a pronoun and at most one content word of its own. Other questions
// are retrieved as asked; when that retrieval is too unsure to answer, a
// question that is short is retried rewritten (see Answer).

// followUpMaxWords is the longest question (in words) taken for a follow-up.
const followUpMaxWords = 10

// followUpStarts are the openings of follow-ups, in normalize's form.
var followUpStarts = []string{
	" and ", " but ", " also ", " plus ", " what about ", " how about ", " and what ", " and how ", " or ",
	" und ", " aber ", " was ist mit ", " wie ist es mit ", " und was ", " und wie ",
	" et ", " mais ", " et pour ", " et si ", " et les ", " et le ", " et la ",
	" y ", " pero ", " e ", " y para ", " y si ", " y los ", " y las ", " y el ", " y la ",
	" ja ", " entä ", " mutta ", " и ", " а ", " но ", " а как ", " а что ",
	" och ", " men ", " en ", " og ", " maar ",
}

// pronouns refer to something named before.
var pronouns = wordSet(`it its this that these those they them there one ones same
	es das dies diese dieser dieses er sie ihn dafür damit davon dort
	ça ce cela ceci il elle ils elles le la les y en
	eso esto ese esa lo ella ello ellos
	se sitä tämä tuo ne niitä siihen sen
	это этого этом эта этот он она оно они его её их там
	det den detta dessa de dem där`)

// extraStop are words that carry no topic in a follow-up, beyond the
// stop words of the extractive answer.
var extraStop = wordSet(`about much many cost costs price does do is are can could would will
	also plus too either other else more less same one ones well okay ok
	teuer kostet kosten viel auch noch gibt es
	cher coûte combien aussi
	cuesta cuánto cuanto también
	maksaa paljonko myös
	сколько стоит стоимость тоже также ещё еще
	kostar mycket också`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// contentWords are the words of s that may name a topic.
func contentWords(s string) []string {
	var out []string
	for _, w := range words(s) {
		if len([]rune(w)) < 2 || pronouns[w] || extraStop[w] || llm.IsStopWord(w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

// previousTopic is the content words of the last user turn of history that
// has any (a follow-up's topic may be a turn further back), looking at most
// 3 user turns back.
func previousTopic(history []llm.Message) []string {
	seen := 0
	for i := len(history) - 1; i >= 0 && seen < 3; i-- {
		if history[i].Role != "user" {
			continue
		}
		seen++
		if ws := contentWords(history[i].Content); len(ws) > 0 {
			return ws
		}
	}
	return nil
}

// followUpQuery returns the retrieval query for question: the question
// with the previous user question's content words added when it looks
// like a follow-up (strong), or "" when it does not or there is nothing to
// add. short reports a question short enough to be retried rewritten when
// its own retrieval is unsure.
func followUpQuery(question string, history []llm.Message) (query string, strong, short bool) {
	prev := previousTopic(history)
	if len(prev) == 0 {
		return "", false, false
	}
	ws := words(question)
	if len(ws) == 0 || len(ws) > followUpMaxWords {
		return "", false, false
	}
	own := contentWords(question)
	have := map[string]bool{}
	for _, w := range own {
		have[w] = true
	}
	var add []string
	for _, w := range prev {
		if !have[w] {
			have[w] = true
			add = append(add, w)
		}
	}
	if len(add) == 0 {
		return "", false, false
	}
	norm := normalize(question)
	for _, s := range followUpStarts {
		if strings.HasPrefix(norm, s) {
			strong = true
			break
		}
	}
	if !strong && len(own) <= 1 {
		for _, w := range ws {
			if pronouns[w] {
				strong = true
				break
			}
		}
	}
	return strings.TrimSpace(question) + " " + strings.Join(add, " "), strong, len(own) <= 3
}
