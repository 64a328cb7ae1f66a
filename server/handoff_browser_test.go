package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/handoff"
	"github.com/sitebot/sitebot/internal/testenv"
)

// TestHandoffInBrowser: the visitor clicks "Talk to a person" in a real
// browser, an agent replies through the inbox API, and the reply appears
// in the widget as text within the polling interval.
func TestHandoffInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("real-browser test (-short)")
	}
	browser := testenv.Browser(t)
	env := newHandoffEnv(t)
	site := hostPage(t, env.url)

	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site.URL)))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`!!document.querySelector('#sitebot-widget') && !!`+shadow+` && `+shadow+`.querySelector('.sb-launcher') !== null && document.querySelector('#sitebot-widget').style.display !== 'none'`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.JSPath(shadow+`.querySelector('.sb-launcher')`)),
		chromedp.WaitVisible(chromedp.JSPath(shadow+`.querySelector('.sb-human')`)),
		chromedp.Click(chromedp.JSPath(shadow+`.querySelector('.sb-human')`)),
	))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](shadow+`.querySelector('.sb-handoff') !== null`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the handoff answer appears")

	var list struct{ Handoffs []handoff.Handoff }
	require.Equal(t, http.StatusOK, env.call(http.MethodGet, "/api/admin/handoffs?status=open", handoffAdminKey, nil, &list))
	require.Len(t, list.Handoffs, 1, "the button created a handoff")
	const reply = `Hi, Grace here <img src=x onerror="alert(1)">`
	sent := time.Now()
	require.Equal(t, http.StatusCreated, env.call(http.MethodPost, "/api/admin/handoffs/"+list.Handoffs[0].ID+"/reply",
		handoffAdminKey, map[string]string{"text": reply}, nil))

	_, err = chromedp.Run(ctx, chromedp.Poll[bool](shadow+`.querySelector('.sb-agent') !== null`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the agent's reply appears in the widget")
	t.Logf("agent reply shown in the widget %v after it was sent (polling every 3s)", time.Since(sent).Round(10*time.Millisecond))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](shadow+`.querySelector('.sb-agent').textContent`))
	require.NoError(t, err)
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](shadow+`.querySelectorAll('.sb-agent img').length`))
	require.NoError(t, err)
	alerted, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__alerted`))
	require.NoError(t, err)
	assert.Equal(t, reply, got, "shown as text")
	assert.Zero(t, imgs)
	assert.False(t, alerted)

	// The visitor writes again: no bot answer, the model is not called.
	prompts := len(env.model.prompts())
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.JSPath(shadow+`.querySelector('.sb-input')`), "Thanks, it is invoice 42"),
		chromedp.Click(chromedp.JSPath(shadow+`.querySelector('.sb-send')`)),
	))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`Array.from(`+shadow+`.querySelectorAll('.sb-user')).some(e => e.textContent.includes('invoice 42')) && `+shadow+`.querySelector('.sb-pending') === null`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	bots, err := chromedp.Run(ctx, chromedp.Evaluate[int](shadow+`.querySelectorAll('.sb-bot:not(.sb-welcome)').length`))
	require.NoError(t, err)
	assert.Equal(t, 1, bots, "only the handoff answer: the bot stays silent")
	assert.Equal(t, prompts, len(env.model.prompts()))
}
