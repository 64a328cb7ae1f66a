package testenv

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

// VerifyNoLeaks runs a package's tests (call it from TestMain) and fails
// them when any leaves a goroutine behind: a model call not cancelled, a
// stream reader or writer, a queue waiter.
//
// Before checking it closes the idle keep-alive connections of
// http.DefaultTransport: the tests' HTTP clients, and clients built with a
// nil *http.Client, pool connections there (to httptest servers and to a
// real Ollama that outlives the tests), each with a read and a write
// goroutine. Those are the pool's, not leaks; a connection still in use is
// not idle and is reported.
func VerifyNoLeaks(m *testing.M) {
	goleak.VerifyTestMain(closeIdleConns{m})
}

type closeIdleConns struct{ m *testing.M }

func (c closeIdleConns) Run() int {
	code := c.m.Run()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	return code
}
