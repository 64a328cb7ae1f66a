package llm

import (
	_ "embed"
	"regexp"
	"strings"
	"text/template"
	"unicode"
)

// NoAnswer is the exact sentence the model is told to reply with when the
// sources do not hold the answer; see IsNoAnswer.
const NoAnswer = "I don't know based on this site."

// Limits on what Prompt copies from the conversation history.
const (
	maxHistoryMessages = 8
	maxHistoryChars    = 2000
)

//go:embed prompt.tmpl
var promptText string

var promptTmpl = template.Must(template.New("prompt").Parse(promptText))

type promptSource struct {
	ID         int
	URL, Title string
	Text       string
}

// Prompt builds the grounded chat for question: a system message with the
// rules, the recent history (user and assistant turns only, oldest first),
// then a user message holding the numbered passages and the question.
// The passages are marked as data, and anything in them that looks like a
// source tag is neutralised so a page cannot forge or close a source.
// Prompt puts no limit on the size of the chat; see PromptWithin.
func Prompt(question string, passages []Passage, history []Message) []Message {
	msgs, _ := PromptWithin(question, passages, history, 0, nil)
	return msgs
}

// promptData is what the prompt template renders.
type promptData struct {
	Profile  []ProfileField // the verified visitor's profile; nil for anonymous visitors
	NoAnswer string
	Sources  []promptSource
	Question string
}

func newPromptData(question string) promptData {
	return promptData{NoAnswer: NoAnswer, Question: neutralise(strings.TrimSpace(question))}
}

func sourceOf(id int, p Passage, text string) promptSource {
	return promptSource{ID: id, URL: attr(p.URL), Title: attr(label(p)), Text: neutralise(strings.TrimSpace(text))}
}

// historyTurns keeps the user and assistant turns of history that have
// text, each cut to maxHistoryChars, the last maxHistoryMessages of them.
func historyTurns(history []Message) []Message {
	var turns []Message
	for _, m := range history {
		if (m.Role == "user" || m.Role == "assistant") && strings.TrimSpace(m.Content) != "" {
			turns = append(turns, Message{Role: m.Role, Content: truncate(m.Content, maxHistoryChars)})
		}
	}
	if len(turns) > maxHistoryMessages {
		turns = turns[len(turns)-maxHistoryMessages:]
	}
	return turns
}

// IsNoAnswer reports whether a model's reply is (or contains) the NoAnswer
// sentence, ignoring case, punctuation and the kind of apostrophe.
func IsNoAnswer(reply string) bool {
	return strings.Contains(lettersOnly(reply), lettersOnly(NoAnswer))
}

// MayBeNoAnswer reports whether a reply streamed so far may still turn out
// to be NoAnswer: it is a start of NoAnswer or already holds all of it
// (letters only, ignoring case), so a caller can hold it back until it knows.
func MayBeNoAnswer(partial string) bool {
	got, want := lettersOnly(partial), lettersOnly(NoAnswer)
	return strings.HasPrefix(want, got) || strings.Contains(got, want)
}

func lettersOnly(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func render(name string, data any) string {
	var b strings.Builder
	if err := promptTmpl.ExecuteTemplate(&b, name, data); err != nil {
		panic("llm: prompt template: " + err.Error()) // the template is embedded and tested
	}
	return b.String()
}

// sourceTag matches anything a model could read as a <source> or
// <customer> tag, opening or closing.
var sourceTag = regexp.MustCompile(`(?i)<(\s*/?\s*(?:source|customer))`)

// neutralise keeps text from opening or closing a source or customer element.
func neutralise(s string) string {
	return sourceTag.ReplaceAllString(s, "&lt;$1")
}

var attrEscaper = strings.NewReplacer(`"`, "&quot;", "<", "&lt;", ">", "&gt;", "\n", " ", "\r", " ")

// attr makes s safe inside a double-quoted attribute of a source tag.
func attr(s string) string { return attrEscaper.Replace(strings.TrimSpace(s)) }

// label names a passage for people: "Title — Heading", or whichever exists.
func label(p Passage) string {
	title, heading := strings.TrimSpace(p.Title), strings.TrimSpace(p.Heading)
	switch {
	case title == "" && heading == "":
		return p.URL
	case heading == "" || strings.EqualFold(heading, title):
		return title
	case title == "":
		return heading
	}
	return title + " — " + heading
}

// truncate cuts s to at most n runes at a word boundary, adding "…".
func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n-1])
	if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// SystemRules is the text of the system message every prompt starts with.
// A reply that repeats it leaks the rules; callers can screen for that.
func SystemRules() string { return render("system", newPromptData("")) }

// ProfileField is one fact of a verified visitor's customer profile.
type ProfileField struct {
	Name, Value string
}

// PromptOption adds to a prompt what only some chats have.
type PromptOption func(*promptData)

// WithProfile puts the verified visitor's profile in the prompt, delimited
// as data like the sources, so the model can answer questions about the
// visitor's own account. Pass it only for a visitor whose identity was
// verified: the prompt says the profile is theirs.
func WithProfile(fields []ProfileField) PromptOption {
	return func(d *promptData) {
		for _, f := range fields {
			name, value := strings.TrimSpace(f.Name), strings.TrimSpace(f.Value)
			if name == "" || value == "" {
				continue
			}
			d.Profile = append(d.Profile, ProfileField{Name: neutralise(oneLine(name)), Value: neutralise(oneLine(value))})
		}
	}
}

// oneLine keeps a profile value on its line, so it cannot fake another field.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
