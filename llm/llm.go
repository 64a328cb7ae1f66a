// Package llm talks to an Ollama server for grounded answers, and builds
// the extractive answer used when no model is available.
package llm

// Message is one turn of a chat prompt.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// Passage is a retrieved piece of the site given to the model as data.
type Passage struct {
	URL     string
	Title   string
	Heading string
	Text    string
}
