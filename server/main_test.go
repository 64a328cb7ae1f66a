package server

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any of them leaves a goroutine
// behind: a model call not cancelled, a stream writer, a queue waiter.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(closeIdleConns{m})
}

// closeIdleConns closes the idle keep-alive connections of
// http.DefaultTransport after the tests: the tests' HTTP clients and the
// Ollama client (nil *http.Client) pool connections there, to httptest
// servers and to a real Ollama that outlives the tests, and each keeps a
// read and a write goroutine. They are the pool's, not leaks; a connection
// still in use is not idle and is reported.
type closeIdleConns struct{ m *testing.M }

func (c closeIdleConns) Run() int {
	code := c.m.Run()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	return code
}
