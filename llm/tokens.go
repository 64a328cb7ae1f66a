package llm

import (
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// There is no tokenizer for arbitrary models in Go, so prompt sizes are
// estimated, erring on the large side: a prompt that is estimated too big
// loses a passage, one that is too big for real loses its start (the rules)
// inside Ollama.
const (
	// defaultCharsPerToken is the conservative ratio used until a model's
	// own counts are known: English averages about 4 characters per token
	// with the common tokenizers, other scripts fewer.
	defaultCharsPerToken = 3.0
	// wordsFloor: whatever the ratio, a text counts at least this many
	// tokens per word (short words and punctuation are tokens of their own).
	wordsFloor = 1.5
	// calibratedWordsFloor replaces wordsFloor once the model's own counts
	// calibrate the ratio.
	calibratedWordsFloor = 1.0
	// MessageOverhead is what one chat message costs beyond its text: the
	// role and the template's separators.
	MessageOverhead = 8
	// calibrationMargin shrinks a measured chars-per-token ratio, so that an
	// estimate stays above the model's real count.
	calibrationMargin = 0.9
	// minCharsPerToken and maxCharsPerToken bound a calibrated ratio.
	minCharsPerToken, maxCharsPerToken = 1.0, 6.0
	// calibrationWeight is the weight of a new measurement in the running average.
	calibrationWeight = 0.25
)

// TokenCounter estimates how many tokens texts and chats take for one
// model. It starts with a conservative guess (the larger of chars/3 and
// 1.5 tokens per word) and, when told the real count of a prompt it sized
// (Observe), calibrates its characters-per-token ratio with a running
// average, kept conservative by a 10% margin. It is safe for concurrent
// use; the zero value is ready.
type TokenCounter struct {
	mu      sync.Mutex
	ratio   float64 // running average of measured chars per token; 0: none yet
	samples int
}

// Tokens estimates the tokens of text.
func (tc *TokenCounter) Tokens(text string) int {
	ratio, floor := tc.charsPerToken()
	return estimate(text, ratio, floor)
}

// ChatTokens estimates the tokens of a chat prompt, with MessageOverhead
// per message.
func (tc *TokenCounter) ChatTokens(msgs []Message) int {
	ratio, floor := tc.charsPerToken()
	n := 0
	for _, m := range msgs {
		n += estimate(m.Content, ratio, floor) + MessageOverhead
	}
	return n
}

// Observe calibrates the counter with the real token count of a prompt
// (Ollama's prompt_eval_count). Counts that cannot be trusted (none, or one
// that may have been truncated to the context window) are ignored by the
// caller; a count smaller than the messages' overhead is ignored here.
func (tc *TokenCounter) Observe(msgs []Message, promptTokens int) {
	chars := 0
	for _, m := range msgs {
		chars += utf8.RuneCountInString(m.Content)
	}
	text := promptTokens - MessageOverhead*len(msgs)
	if chars == 0 || text <= 0 {
		return
	}
	r := float64(chars) / float64(text)
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.samples == 0 {
		tc.ratio = r
	} else {
		tc.ratio += calibrationWeight * (r - tc.ratio)
	}
	tc.samples++
}

// Calibrated reports whether the counter has seen a real count, and the
// characters per token it now assumes.
func (tc *TokenCounter) Calibrated() (bool, float64) {
	r, _ := tc.charsPerToken()
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.samples > 0, r
}

func (tc *TokenCounter) charsPerToken() (ratio, wordFloor float64) {
	if tc == nil {
		return defaultCharsPerToken, wordsFloor
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.samples == 0 {
		return defaultCharsPerToken, wordsFloor
	}
	r := tc.ratio * calibrationMargin
	return min(max(r, minCharsPerToken), maxCharsPerToken), calibratedWordsFloor
}

// EstimateTokens is the uncalibrated estimate of the tokens of text.
func EstimateTokens(text string) int {
	return estimate(text, defaultCharsPerToken, wordsFloor)
}

func estimate(text string, charsPerToken, perWord float64) int {
	if text == "" {
		return 0
	}
	chars := float64(utf8.RuneCountInString(text)) / charsPerToken
	words := float64(len(strings.Fields(text))) * perWord
	return int(math.Ceil(max(chars, words)))
}
