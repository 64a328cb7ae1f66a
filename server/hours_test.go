package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBusinessHours(t *testing.T) {
	for _, tc := range []struct {
		in, err string
		days    string // open days, Sunday first
	}{
		{in: "", days: ""},
		{in: "Mon-Fri 09:00-17:00 Europe/Helsinki", days: ".MTWTF."},
		{in: "mon,wed,fri 08:30-16:00", days: ".M.W.F."},
		{in: "Sat-Mon 10:00-24:00 UTC", days: "SM....S"},
		{in: "Monday-Tuesday,Sun 00:00-01:00 America/New_York", days: "SMT...."},
		{in: "Mon-Fri", err: "want days"},
		{in: "Mon-Fri 09:00-17:00 Europe/Helsinki extra", err: "want days"},
		{in: "Mo-Fr 09:00-17:00", err: "unknown day"},
		{in: "Mon-Fri 9-17", err: "want HH:MM"},
		{in: "Mon-Fri 17:00-09:00", err: "must end after"},
		{in: "Mon-Fri 24:00-24:00", err: "want HH:MM"},
		{in: "Mon-Fri 09:00-17:60", err: "want HH:MM"},
		{in: "Mon-Fri 09:00-17:00 Mars/Olympus", err: "time zone"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			h, err := ParseBusinessHours(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			if tc.in == "" {
				assert.Nil(t, h)
				assert.True(t, h.IsOpen(time.Now()), "nil hours are always open")
				return
			}
			got := []byte(".......")
			for d, open := range h.days {
				if open {
					got[d] = "SMTWTFS"[d]
				}
			}
			assert.Equal(t, tc.days, string(got))
		})
	}
}

func TestBusinessHoursOpenAndNext(t *testing.T) {
	h, err := ParseBusinessHours("Mon-Fri 09:00-17:00 Europe/Helsinki")
	require.NoError(t, err)
	hel, err := time.LoadLocation("Europe/Helsinki")
	require.NoError(t, err)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, hel)
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct {
		name, now string
		open      bool
		next      string // Helsinki time
	}{
		{"Wednesday morning", "2026-11-25 10:30", true, "2026-11-25 10:30"},
		{"opening minute", "2026-11-25 09:00", true, "2026-11-25 09:00"},
		{"closing minute", "2026-11-25 17:00", false, "2026-11-26 09:00"},
		{"before opening", "2026-11-25 08:59", false, "2026-11-25 09:00"},
		{"Friday evening: over the weekend", "2026-11-27 18:00", false, "2026-11-30 09:00"},
		{"Saturday", "2026-11-28 12:00", false, "2026-11-30 09:00"},
		{"Sunday late", "2026-11-29 23:59", false, "2026-11-30 09:00"},
		{"over the spring DST change", "2026-03-28 12:00", false, "2026-03-30 09:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := at(tc.now)
			assert.Equal(t, tc.open, h.IsOpen(now))
			assert.True(t, h.IsOpen(now.UTC()) == tc.open, "the zone, not the instant's location, decides")
			next := h.NextOpen(now)
			assert.True(t, at(tc.next).Equal(next), "next opening %v, want %s", next, tc.next)
			assert.Equal(t, "Europe/Helsinki", next.Location().String())
		})
	}
	// The zone matters: 08:00 UTC on a Monday is 10:00 in Helsinki (open),
	// but 03:00 in New York.
	mon := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	assert.True(t, h.IsOpen(mon))
	ny, err := ParseBusinessHours("Mon-Fri 09:00-17:00 America/New_York")
	require.NoError(t, err)
	assert.False(t, ny.IsOpen(mon))
	assert.Equal(t, "2026-11-30T09:00:00-05:00", ny.NextOpen(mon).Format(time.RFC3339))
}

// TestHandoffOutsideBusinessHours: on a Saturday, a handoff (asked for in
// the chat, or with POST .../handoff) says when the team replies, in the
// visitor's language, and asks for a contact until one is given.
func TestHandoffOutsideBusinessHours(t *testing.T) {
	hours, err := ParseBusinessHours("Mon-Fri 09:00-17:00 Europe/Helsinki")
	require.NoError(t, err)
	saturday := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	env := newHandoffEnv(t, func(c *Config) {
		c.BusinessHours = hours
		c.Now = func() time.Time { return saturday }
	})

	resp := env.chat(ChatRequest{Message: "Ich möchte mit einem Mitarbeiter sprechen"})
	require.True(t, resp.Handoff)
	assert.Contains(t, resp.Answer, "Ich übergebe dieses Gespräch")
	assert.Contains(t, resp.Answer, "ab Montag 09:00 (Europe/Helsinki)")
	assert.Contains(t, resp.Answer, "E-Mail-Adresse")
	assert.True(t, resp.ContactRequested)
	assert.Equal(t, "2026-11-30T09:00:00+02:00", resp.ReplyExpected)

	// The widget's form posts the contact: no more asking.
	path := "/api/conversations/" + resp.ConversationID + "/handoff"
	var rcpt HandoffReceipt
	require.Equal(t, http.StatusOK, env.call(http.MethodPost, path, "", map[string]string{"contact": "ada@example.com"}, &rcpt))
	assert.False(t, rcpt.ContactRequested)
	assert.Equal(t, "2026-11-30T09:00:00+02:00", rcpt.ReplyExpected)
	assert.Equal(t, "Unser Team ist gerade nicht erreichbar; mit einer Antwort können Sie ab Montag 09:00 (Europe/Helsinki) rechnen.", rcpt.Message)
	list, err := env.hs.List(t.Context(), "", 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "ada@example.com", list[0].Contact)

	again := env.chat(ChatRequest{Message: "Ich möchte mit einem Mitarbeiter sprechen", ConversationID: resp.ConversationID})
	require.True(t, again.Handoff)
	assert.False(t, again.ContactRequested, "the contact is known")
	assert.NotContains(t, again.Answer, "E-Mail-Adresse")
	assert.NotEmpty(t, again.ReplyExpected)

	// POST .../handoff on a new conversation, language from the body.
	first := env.chat(ChatRequest{Message: "How do I download my invoices?"})
	require.False(t, first.Handoff)
	assert.False(t, first.ContactRequested)
	assert.Empty(t, first.ReplyExpected)
	require.Equal(t, http.StatusCreated, env.call(http.MethodPost, "/api/conversations/"+first.ConversationID+"/handoff", "",
		map[string]string{"lang": "fi"}, &rcpt))
	assert.True(t, rcpt.ContactRequested)
	assert.Equal(t, "Tiimimme ei ole juuri nyt paikalla; voit odottaa vastausta aikaisintaan maanantaina 09:00 (Europe/Helsinki). Jätä sähköpostiosoitteesi alle, niin palaamme asiaan.", rcpt.Message)
	// Guessed from the conversation when not given.
	require.Equal(t, http.StatusOK, env.call(http.MethodPost, "/api/conversations/"+first.ConversationID+"/handoff", "", nil, &rcpt))
	assert.Contains(t, rcpt.Message, "Monday 09:00 (Europe/Helsinki)")
}

// TestHandoffInBusinessHours: no notice, but the contact is still asked for.
func TestHandoffInBusinessHours(t *testing.T) {
	hours, err := ParseBusinessHours("Mon-Fri 09:00-17:00 Europe/Helsinki")
	require.NoError(t, err)
	env := newHandoffEnv(t, func(c *Config) {
		c.BusinessHours = hours
		c.Now = func() time.Time { return time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) }
	})
	resp := env.chat(ChatRequest{Message: "I want to talk to a person"})
	require.True(t, resp.Handoff)
	assert.Equal(t, canned["en"].handoff, resp.Answer)
	assert.True(t, resp.ContactRequested)
	assert.Empty(t, resp.ReplyExpected)
	var rcpt HandoffReceipt
	require.Equal(t, http.StatusOK, env.call(http.MethodPost, "/api/conversations/"+resp.ConversationID+"/handoff", "", nil, &rcpt))
	assert.True(t, rcpt.ContactRequested)
	assert.Empty(t, rcpt.Message)
	assert.Empty(t, rcpt.ReplyExpected)
}

// Every language has the business-hours texts.
func TestAfterHoursReplies(t *testing.T) {
	for lang, r := range canned {
		assert.Contains(t, r.afterHours, "%s", lang)
		assert.NotEmpty(t, r.askContact, lang)
		for d, name := range r.weekdays {
			assert.NotEmpty(t, name, "%s day %d", lang, d)
		}
	}
}
