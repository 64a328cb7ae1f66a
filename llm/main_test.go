package llm

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any of them leaves a goroutine
// behind (a stream reader, a model call that was not cancelled, ...).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(closeIdleConns{m})
}

// closeIdleConns closes the idle keep-alive connections of
// http.DefaultTransport after the tests: clients built with a nil
// *http.Client use it, and its pooled connections to a real Ollama (which
// outlives the tests) keep a read and a write goroutine each. They are the
// pool's, not leaks; a connection still busy is not idle and is reported.
type closeIdleConns struct{ m *testing.M }

func (c closeIdleConns) Run() int {
	code := c.m.Run()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	return code
}
