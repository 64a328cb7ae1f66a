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
// browser, leaves an e-mail address in the form under the answer, an agent replies through the inbox API, and the reply appears
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
	assert.Empty(t, list.Handoffs[0].Contact)

	// The answer asks for the visitor's contact with a small form.
	contact := shadow + `.querySelector('.sb-handoff .sb-contact')`
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](contact+` !== null`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the contact form appears under the handoff answer")
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](contact+`.querySelector('label').textContent`))
	require.NoError(t, err)
	assert.Contains(t, label, "e-mail")
	// Not an address: the widget says so and sends nothing.
	input := chromedp.JSPath(contact + `.querySelector('.sb-contact-input')`)
	send := chromedp.JSPath(contact + `.querySelector('.sb-contact-send')`)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(input, `<img src=x onerror=alert(1)>`),
		chromedp.Click(send),
	))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](contact+`.querySelector('.sb-contact-msg').textContent !== ''`, chromedp.WithPollingTimeout(5*time.Second)))
	require.NoError(t, err, "an invalid contact is refused in the widget")
	before, err := env.hs.Get(t.Context(), list.Handoffs[0].ID)
	require.NoError(t, err)
	assert.Empty(t, before.Contact, "nothing was sent")
	// An e-mail address is sent to the handoff.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[string](contact+`.querySelector('.sb-contact-input').value = ''`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(input, "ada@example.com"),
		chromedp.Click(send),
	))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](shadow+`.querySelector('.sb-contact-ok') !== null && `+shadow+`.querySelector('.sb-contact') === null`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the widget confirms the contact")
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[string](shadow+`.querySelector('.sb-contact-ok').textContent`))
	require.NoError(t, err)
	assert.Contains(t, ok, "ada@example.com")
	h, err := env.hs.Get(t.Context(), list.Handoffs[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", h.Contact, "the handoff store got the contact")
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
