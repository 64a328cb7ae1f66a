package server

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/internal/testenv"
)

func TestSanitizeLinks(t *testing.T) {
	hosts := newHostSet("https://docs.example.com", "example.com:8080")
	tests := []struct{ in, want string }{
		{"See https://docs.example.com/billing.", "See https://docs.example.com/billing."},
		{"See https://evil.example/x.", "See ."},
		{"Go to www.evil.example now", "Go to  now"},
		{"[Billing](https://docs.example.com/billing) [1]", "[Billing](https://docs.example.com/billing) [1]"},
		{"[Billing](https://evil.example/billing) [1]", "Billing [1]"},
		{"[https://evil.example](https://evil.example)", ""},
		{"![logo](https://docs.example.com/logo.png)", "![logo](https://docs.example.com/logo.png)"},
		{"a ![pixel](https://evil.example/p.gif?c=1) b", "a  b"},
		{"<https://evil.example/x> and <https://docs.example.com/a>", " and <https://docs.example.com/a>"},
		{`<a href="https://evil.example">click</a>`, "click</a>"},
		{`<a href='https://example.com/ok'>ok</a>`, `<a href='https://example.com/ok'>ok</a>`},
		{`<img src="https://evil.example/p.gif">`, ""},
		{`<img src=x onerror=alert(1)>`, ""},
		{"[x](https://user:pw@docs.example.com/)", "x"},
		{"[x](//evil.example/y)", "x"},
		{"Your data: 5 GB. Ratio 3 < 4 and 5 > 2.", "Your data: 5 GB. Ratio 3 < 4 and 5 > 2."},
		{"(see https://docs.example.com/a_(b))", "(see https://docs.example.com/a_(b))"},
		{"(see https://docs.example.com/a)", "(see https://docs.example.com/a)"},
		{"HTTPS://EVIL.EXAMPLE/X", ""},
		{"javascript:alert(1)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, sanitizeLinks(tt.in, hosts))
		})
	}
}

// streamThrough feeds text to a linkFilter in pieces of n bytes and
// returns what it emitted, piece by piece.
func streamThrough(t *testing.T, text string, n int, hosts hostSet) []string {
	t.Helper()
	var out []string
	f := &linkFilter{hosts: hosts, emit: func(s string) error { out = append(out, s); return nil }}
	for len(text) > 0 {
		k := min(n, len(text))
		require.NoError(t, f.Write(text[:k]))
		text = text[k:]
	}
	require.NoError(t, f.Close())
	return out
}

func TestLinkFilterStreamsLikeTheWhole(t *testing.T) {
	hosts := newHostSet("docs.example.com")
	texts := []string{
		"Download them from [Billing](https://docs.example.com/billing) [1]. Also see https://evil.example/x, or ![p](https://evil.example/p.gif)!",
		`<a href="https://evil.example/a">here</a> and <https://evil.example> [2][3]`,
		"Plain text with no links at all, a < b and c > d, [1] and [2].",
	}
	for _, text := range texts {
		want := sanitizeLinks(text, hosts)
		for n := 1; n <= 7; n++ {
			got := strings.Join(streamThrough(t, text, n, hosts), "")
			assert.Equal(t, want, got, "pieces of %d bytes", n)
		}
	}
	// An unclosed construct is held no more than maxLinkHold bytes.
	long := "[" + strings.Repeat("a", 3*maxLinkHold)
	out := streamThrough(t, long, 100, hosts)
	assert.Greater(t, len(out), 1, "released before the end")
}

type xssPayload struct {
	Kind    string `json:"kind"`
	Payload string `json:"payload"`
}

// TestAnswerLinksNeverLeak streams the URI payloads of the XSS fixtures as
// the model's answer, as markdown links, images and autolinks: no token
// and no final answer holds them; links to the site survive.
func TestAnswerLinksNeverLeak(t *testing.T) {
	raw, err := os.ReadFile(testenv.Shared(t, "fixtures/attacks/xss/pat_readme_payloads.json"))
	require.NoError(t, err)
	var payloads []xssPayload
	require.NoError(t, json.Unmarshal(raw, &payloads))
	var uris []string
	for _, p := range payloads {
		if p.Kind == "uri" {
			uris = append(uris, p.Payload)
		}
	}
	require.NotEmpty(t, uris)
	uris = append(uris, "https://evil.example/steal?c=", "http://10.10.10.10:9999/x.svg", "//evil.example/y", "www.evil.example")

	const site = "See [Billing](https://docs.example.com/billing#invoices) or https://docs.example.com/account."
	for _, uri := range uris {
		for _, wrap := range []string{"[x](%s)", "![x](%s)", "<%s>"} {
			payload := strings.Replace(wrap, "%s", uri, 1)
			t.Run(payload, func(t *testing.T) {
				answer := "Invoices are on the billing page. " + payload + " " + site
				// Split into small tokens, as a model streams.
				var tokens []string
				for i := 0; i < len(answer); i += 3 {
					tokens = append(tokens, answer[i:min(i+3, len(answer))])
				}
				model := &fakeModel{tokens: tokens}
				s := New(Config{Logger: quietLogger(), AnswerHosts: []string{"https://docs.example.com"}}, &fakeRetriever{result: hits()}, model, nil)
				var streamed []string
				resp, err := s.Answer(t.Context(), ChatRequest{Message: "Where are my invoices?"}, func(tok string) error {
					streamed = append(streamed, tok)
					return nil
				})
				require.NoError(t, err)
				require.Equal(t, ModeLLM, resp.Mode)
				for _, tok := range append(streamed, resp.Answer) {
					assertNoForbiddenLink(t, tok, uri)
				}
				joined := strings.Join(streamed, "")
				assert.Equal(t, strings.TrimSpace(joined), resp.Answer)
				assert.Contains(t, resp.Answer, "[Billing](https://docs.example.com/billing#invoices)", "site links survive")
				assert.Contains(t, resp.Answer, "https://docs.example.com/account.")
				if strings.HasPrefix(payload, "[x]") {
					assert.Contains(t, resp.Answer, "page. x See", "a link becomes its text")
				}
			})
		}
	}
}

func assertNoForbiddenLink(t *testing.T, text, uri string) {
	t.Helper()
	if len(uri) > 6 {
		assert.NotContains(t, text, uri)
		assert.NotContains(t, text, uri[:len(uri)/2+1], "not even in part")
	}
	lower := strings.ToLower(text)
	for _, bad := range []string{"javascript:", "vbscript:", "data:text", "evil.example", "10.10.10.10", "](", "<&", "<%", "<\\"} {
		if bad == "](" && strings.Contains(lower, "](https://docs.example.com/") {
			continue
		}
		assert.NotContains(t, lower, bad)
	}
}
