package server

import (
	"errors"
	"strings"
	"unicode"

	"github.com/sitebot/sitebot/llm"
)

// errPromptLeak stops a model that started to repeat its system rules.
var errPromptLeak = errors.New("the model repeated its system rules")

// leakRun is how many consecutive words of the rules make a leak: long
// enough that an honest answer does not repeat them by chance.
const leakRun = 8

// leakGuard passes streamed text on to emit unless it repeats leakRun
// consecutive words of the system rules. While the text's last words could
// be the start of such a run they are held back, so a leak is stopped
// before any of it reaches the visitor.
type leakGuard struct {
	*ruleRuns
	emit func(string) error
	text strings.Builder // all text written so far
	sent int             // bytes of text already emitted
}

// ruleRuns are the word runs of the rules a leakGuard looks for, built once
// per server and shared by its guards (read-only).
type ruleRuns struct {
	runs map[string]bool // every run of 1..leakRun consecutive words of the rules
	// partial holds the runs of up to leakRun-1 words whose last word is
	// cut short, as a tail still being streamed looks.
	partial map[string]bool
}

func newRuleRuns(rules string) *ruleRuns {
	g := &ruleRuns{runs: map[string]bool{}, partial: map[string]bool{}}
	words := leakWords(rules)
	for i := range words {
		for n := 1; n <= leakRun && i+n <= len(words); n++ {
			g.runs[strings.Join(words[i:i+n], " ")] = true
			if n < leakRun {
				head := strings.Join(words[i:i+n-1], " ")
				last := []rune(words[i+n-1])
				for k := 1; k < len(last); k++ {
					g.partial[strings.TrimSpace(head+" "+string(last[:k]))] = true
				}
			}
		}
	}
	return g
}

// leakWords splits text into lower-case words of letters and digits.
func leakWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Write adds tok and emits what can no longer be part of a leak; it
// returns errPromptLeak as soon as the text holds a run of the rules.
func (g *leakGuard) Write(tok string) error {
	g.text.WriteString(tok)
	text := g.text.String()
	words := leakWords(text)
	for i := 0; i+leakRun <= len(words); i++ {
		if g.runs[strings.Join(words[i:i+leakRun], " ")] {
			return errPromptLeak
		}
	}
	return g.flush(text, g.holdFrom(text, words))
}

// Close emits what is held back: the text ended without a leak.
func (g *leakGuard) Close() error {
	text := g.text.String()
	return g.flush(text, len(text))
}

func (g *leakGuard) flush(text string, upto int) error {
	if upto <= g.sent {
		return nil
	}
	out := text[g.sent:upto]
	g.sent = upto
	return g.emit(out)
}

// holdFrom returns the byte offset from which text must be held back: the
// start of its longest tail of words that is a run of the rules, where the
// last word, when the text ends inside it, need only begin like the run's.
func (g *leakGuard) holdFrom(text string, words []string) int {
	rs := []rune(text)
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	open := len(rs) > 0 && isWord(rs[len(rs)-1]) // the last word may go on
	hold := 0
	for n := min(leakRun-1, len(words)); n >= 1; n-- {
		tail := strings.Join(words[len(words)-n:], " ")
		if g.runs[tail] || (open && g.partial[tail]) {
			hold = n
			break
		}
	}
	if open && hold == 0 {
		hold = 1 // a word being written is never sent half
	}
	j := len(rs)
	for k := 0; k < hold; k++ {
		for j > 0 && !isWord(rs[j-1]) {
			j--
		}
		for j > 0 && isWord(rs[j-1]) {
			j--
		}
	}
	return max(len(string(rs[:j])), g.sent)
}

func newLeakGuard(r *ruleRuns, emit func(string) error) *leakGuard {
	return &leakGuard{ruleRuns: r, emit: emit}
}

// rulesGuard is a guard against reciting this package's prompt rules.
func (s *Server) rulesGuard(emit func(string) error) *leakGuard { return newLeakGuard(s.rules, emit) }

// systemRuleRuns builds the runs of llm.SystemRules.
func systemRuleRuns() *ruleRuns { return newRuleRuns(llm.SystemRules()) }
