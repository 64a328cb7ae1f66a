package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/sitebot/sitebot/retriever"
	"github.com/sitebot/sitebot/widget"
)

// hostPage serves a page of "the company's site" that embeds the widget
// with the snippet, and whose own CSS would break the widget if it leaked in.
func hostPage(t *testing.T, sitebotURL string) *httptest.Server {
	t.Helper()
	snippet, err := widget.Snippet(sitebotURL)
	require.NoError(t, err)
	page := `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<style>button, .sb-launcher, .sb-panel { display: none !important; } * { color: red !important; }</style>
<script>window.__alerted = false; window.alert = function () { window.__alerted = true; };</script>
</head><body><h1>Example shop</h1><p>Welcome.</p>
` + snippet + `
</body></html>`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(ts.Close)
	return ts
}

const shadow = `document.querySelector('#sitebot-widget').shadowRoot`

// ask opens the widget on the host page and sends question.
func ask(t *testing.T, ctx context.Context, pageURL, question string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(pageURL)))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`!!document.querySelector('#sitebot-widget') && !!`+shadow+` && `+shadow+`.querySelector('.sb-launcher') !== null && document.querySelector('#sitebot-widget').style.display !== 'none'`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the launcher should appear")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.JSPath(shadow+`.querySelector('.sb-launcher')`)),
		chromedp.WaitVisible(chromedp.JSPath(shadow+`.querySelector('.sb-input')`)),
		chromedp.SendKeys(chromedp.JSPath(shadow+`.querySelector('.sb-input')`), question),
		chromedp.Click(chromedp.JSPath(shadow+`.querySelector('.sb-send')`)),
	))
}

func TestWidgetInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("real-browser test (-short)")
	}
	browser := testenv.Browser(t)

	t.Run("answer with source link", func(t *testing.T) {
		s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, nil, nil)
		bot := httptest.NewServer(s.Handler())
		defer bot.Close()
		site := hostPage(t, bot.URL)

		ctx, cancel := chromedp.NewContext(browser) // a new tab
		defer cancel()
		ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
		defer cancelTimeout()
		ask(t, ctx, site.URL, "How do I download invoices?")

		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
			const r = `+shadow+`;
			const a = r.querySelector('.sb-sources a[href="https://docs.example.com/billing#invoices"]');
			const bots = r.querySelectorAll('.sb-msg.sb-bot:not(.sb-welcome):not(.sb-pending)');
			return !!a && bots.length > 0 && bots[bots.length - 1].textContent.includes('download your invoices');
		})()`, chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err, "the answer and its source link should appear")

		state, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
			const r = `+shadow+`;
			const a = r.querySelector('.sb-sources a');
			return {
				welcome: r.querySelector('.sb-welcome').textContent,
				target: a.getAttribute('target'),
				rel: a.getAttribute('rel'),
				user: r.querySelector('.sb-msg.sb-user').textContent,
				conversation: JSON.parse(sessionStorage.getItem('sitebot:`+bot.URL+`:conversation')),
				launcherLabel: r.querySelector('.sb-launcher').getAttribute('aria-label'),
				humanButton: r.querySelector('.sb-human').textContent,
				leaked: getComputedStyle(r.querySelector('.sb-send')).display,
			};
		})()`))
		require.NoError(t, err)
		assert.Contains(t, state["welcome"], "AI assistant")
		assert.Contains(t, state["welcome"], "person")
		assert.Equal(t, "_blank", state["target"])
		assert.Equal(t, "noopener noreferrer", state["rel"])
		assert.Equal(t, "How do I download invoices?", state["user"])
		assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32}$`), state["conversation"])
		assert.NotEmpty(t, state["launcherLabel"])
		assert.Equal(t, "Talk to a person", state["humanButton"])
		assert.NotEqual(t, "none", state["leaked"], "the host page's CSS must not reach into the widget")

		// "Talk to a person" hands off.
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.JSPath(shadow+`.querySelector('.sb-human')`))))
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](shadow+`.querySelector('.sb-msg.sb-handoff') !== null`,
			chromedp.WithPollingTimeout(10*time.Second)))
		require.NoError(t, err, "the handoff reply should appear")
	})

	t.Run("model text is never HTML", func(t *testing.T) {
		xss := retriever.Result{Confidence: 1, Hits: []indexer.Hit{
			{Chunk: indexer.Chunk{URL: "https://docs.example.com/billing", Title: `<img src=x onerror=alert(3)>Billing`,
				Text: `Invoices are on the billing page <img src=x onerror=alert(1)> of your account.`}, Score: 2},
			{Chunk: indexer.Chunk{URL: "javascript:alert(2)", Title: "Invoices trap",
				Text: "Invoices billing page, javascript link."}, Score: 1},
		}}
		s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: xss}, nil, nil)
		bot := httptest.NewServer(s.Handler())
		defer bot.Close()
		site := hostPage(t, bot.URL)

		ctx, cancel := chromedp.NewContext(browser)
		defer cancel()
		ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
		defer cancelTimeout()
		ask(t, ctx, site.URL, "Where are the invoices on the billing page?")

		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
			const bots = `+shadow+`.querySelectorAll('.sb-msg.sb-bot:not(.sb-welcome):not(.sb-pending)');
			return bots.length > 0 && bots[bots.length - 1].textContent.includes('<img src=x onerror=alert(1)>');
		})()`, chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err, "the passage's markup should show as text")
		time.Sleep(300 * time.Millisecond) // give a broken image's onerror time to fire

		state, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
			const r = `+shadow+`;
			return {
				imgs: r.querySelectorAll('img').length + document.querySelectorAll('img').length,
				alerted: window.__alerted,
				links: Array.from(r.querySelectorAll('.sb-sources a')).map(a => a.getAttribute('href')),
				titles: Array.from(r.querySelectorAll('.sb-sources a')).map(a => a.textContent),
			};
		})()`))
		require.NoError(t, err)
		assert.EqualValues(t, 0, state["imgs"], "no element is created from model or page text")
		assert.Equal(t, false, state["alerted"])
		assert.Equal(t, []any{"https://docs.example.com/billing"}, state["links"], "only http(s) links")
		assert.Equal(t, []any{"<img src=x onerror=alert(3)>Billing"}, state["titles"])
	})
}
