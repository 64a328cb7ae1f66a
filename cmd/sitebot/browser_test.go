package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/internal/testenv"
)

const shadowRoot = `document.querySelector('#sitebot-widget').shadowRoot`

// TestWidgetEndToEnd is the whole path in a real browser: the plausible
// fixture crawled over loopback, `sitebot serve`, and a page of that site
// (another origin than sitebot's) with the pasted snippet, where a visitor
// asks a question and gets an answer linking the page it came from.
func TestWidgetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("real-browser test (-short)")
	}
	data, siteURL, m := crawledPlausible(t)
	base := startServe(t, nil, "--data", data, "--model", "")
	faq := m.FAQPairs[len(m.FAQPairs)-1]

	ctx, cancel := context.WithTimeout(testenv.Browser(t), 90*time.Second)
	defer cancel()
	page := siteURL + "/sitebot-widget-test.html?server=" + url.QueryEscape(base)
	err := chromedp.Do(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.JSPath(shadowRoot+`.querySelector('.sb-launcher')`)),
		chromedp.Click(chromedp.JSPath(shadowRoot+`.querySelector('.sb-launcher')`)),
		chromedp.WaitVisible(chromedp.JSPath(shadowRoot+`.querySelector('.sb-input')`)),
		chromedp.SendKeys(chromedp.JSPath(shadowRoot+`.querySelector('.sb-input')`), faq.Question),
		chromedp.Click(chromedp.JSPath(shadowRoot+`.querySelector('.sb-send')`)),
	)
	require.NoError(t, err, "open the widget and ask")

	want := siteURL + faq.URL
	links, err := chromedp.Run(ctx, chromedp.Poll[[]string](`(() => {
		const links = Array.from(`+shadowRoot+`.querySelectorAll('.sb-sources a')).map(a => a.href);
		return links.length ? links : null;
	})()`, chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err, "an answer with source links should appear")
	found := false
	for _, l := range links {
		found = found || l == want || len(l) > len(want) && l[:len(want)+1] == want+"#"
	}
	assert.True(t, found, "sources %v should link %s", links, want)

	answer, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const bots = `+shadowRoot+`.querySelectorAll('.sb-msg.sb-bot:not(.sb-welcome):not(.sb-pending)');
		return bots.length ? bots[bots.length - 1].textContent : '';
	})()`))
	require.NoError(t, err)
	assert.NotEmpty(t, answer)

	// The quoted page's URL in the extractive answer is a link, and only
	// the answer's own sources become links.
	inText, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(`+shadowRoot+
		`.querySelectorAll('.sb-msg.sb-bot:not(.sb-welcome) .sb-text a')).map(a => a.href)`))
	require.NoError(t, err)
	require.NotEmpty(t, inText, "the source URL quoted in the answer is clickable")
	for _, l := range inText {
		assert.Contains(t, links, l)
	}

	// The server's own page embeds the widget too, for trying it out.
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), `src="/widget.js"`)
	assert.Contains(t, string(body), base+"/widget.js", "the page shows the snippet to paste")
}
