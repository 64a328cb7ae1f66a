package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sitebot/sitebot/handoff"
)

// BusinessHours are the hours when the support team answers handoffs
// (Config.BusinessHours): some days of the week, one time range on each,
// in one time zone. Outside them a handoff says when a reply can be
// expected and asks for the visitor's contact. See ParseBusinessHours.
type BusinessHours struct {
	days        [7]bool // indexed by time.Weekday
	open, close int     // minutes after midnight; close > open (1440: midnight)
	loc         *time.Location
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseBusinessHours parses the --business-hours syntax:
//
//	Mon-Fri 09:00-17:00 Europe/Helsinki
//	Mon,Wed,Fri-Sat 08:30-16:00 UTC
//
// days (names of three letters or more, comma-separated, a range wraps
// over the weekend: "Sat-Mon"), one time range (HH:MM-HH:MM, "24:00" for
// the end of the day) and an IANA time zone (default UTC). An empty string
// means always open: (nil, nil).
func ParseBusinessHours(s string) (*BusinessHours, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, nil
	}
	if len(fields) < 2 || len(fields) > 3 {
		return nil, fmt.Errorf("business hours %q: want days, a time range and a time zone, e.g. \"Mon-Fri 09:00-17:00 Europe/Helsinki\"", s)
	}
	h := &BusinessHours{loc: time.UTC}
	for _, part := range strings.Split(fields[0], ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, err := parseWeekday(from)
		if err != nil {
			return nil, fmt.Errorf("business hours %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseWeekday(to); err != nil {
				return nil, fmt.Errorf("business hours %q: %w", s, err)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			h.days[d] = true
			if d == b {
				break
			}
		}
	}
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return nil, fmt.Errorf("business hours %q: time range %q: want HH:MM-HH:MM", s, fields[1])
	}
	var err error
	if h.open, err = parseClock(from, false); err != nil {
		return nil, fmt.Errorf("business hours %q: %w", s, err)
	}
	if h.close, err = parseClock(to, true); err != nil {
		return nil, fmt.Errorf("business hours %q: %w", s, err)
	}
	if h.close <= h.open {
		return nil, fmt.Errorf("business hours %q: the time range %q must end after it starts (on the same day)", s, fields[1])
	}
	if len(fields) == 3 {
		if h.loc, err = time.LoadLocation(fields[2]); err != nil {
			return nil, fmt.Errorf("business hours %q: time zone %q: %w", s, fields[2], err)
		}
	}
	return h, nil
}

func parseWeekday(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) >= 3 {
		if d, ok := weekdayNames[s[:3]]; ok && strings.HasPrefix(strings.ToLower(time.Weekday(d).String()), s) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown day %q (want Mon, Tue, ... Sun)", s)
}

// parseClock parses HH:MM into minutes after midnight; "24:00" only as an end.
func parseClock(s string, end bool) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 ||
		h > 24 || (h == 24 && (m != 0 || !end)) {
		return 0, fmt.Errorf("time %q: want HH:MM (00:00 to 23:59, or 24:00 as the end)", s)
	}
	return h*60 + m, nil
}

// Location is the zone the hours are in.
func (h *BusinessHours) Location() *time.Location {
	if h == nil {
		return time.UTC
	}
	return h.loc
}

// IsOpen reports whether t is within the hours; nil hours are always open.
func (h *BusinessHours) IsOpen(t time.Time) bool {
	if h == nil {
		return true
	}
	t = t.In(h.loc)
	m := t.Hour()*60 + t.Minute()
	return h.days[t.Weekday()] && m >= h.open && m < h.close
}

// NextOpen is the first opening at or after t (t itself when open), in the
// hours' zone; the zero time when no day is open (cannot happen for parsed
// hours) or the hours are nil.
func (h *BusinessHours) NextOpen(t time.Time) time.Time {
	if h == nil {
		return time.Time{}
	}
	if h.IsOpen(t) {
		return t.In(h.loc)
	}
	t = t.In(h.loc)
	y, mo, d := t.Date()
	for i := 0; i <= 7; i++ {
		// time.Date normalizes day overflow and applies the zone's offset
		// on that day (daylight saving time).
		at := time.Date(y, mo, d+i, h.open/60, h.open%60, 0, 0, h.loc)
		if h.days[at.Weekday()] && !at.Before(t) {
			return at
		}
	}
	return time.Time{}
}

// now is the server's clock (Config.Now).
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// afterHours reports whether the team is away now (Config.BusinessHours)
// and, if so, the sentence that says when a reply can be expected, in the
// language of text, and that time.
func (s *Server) afterHours(text replies) (msg string, reply time.Time, away bool) {
	h := s.cfg.BusinessHours
	now := s.now()
	if h == nil || h.IsOpen(now) {
		return "", time.Time{}, false
	}
	next := h.NextOpen(now)
	if next.IsZero() {
		return "", time.Time{}, false
	}
	return fmt.Sprintf(text.afterHours, nextOpening(text, next)), next, true
}

// nextOpening formats an opening time for the visitor: "Monday 09:00
// (Europe/Helsinki)", the day named in text's language.
func nextOpening(text replies, t time.Time) string {
	return text.weekdays[t.Weekday()] + " " + t.Format("15:04") + " (" + t.Location().String() + ")"
}

// handoffNotice completes a handoff answer: outside business hours it says
// when a reply can be expected (ReplyExpected), and it asks for the
// visitor's contact when the conversation's handoff has none yet
// (ContactRequested; the widget then shows a form that posts it to
// /api/conversations/{id}/handoff).
func (s *Server) handoffNotice(ctx context.Context, convID string, known bool, text replies, resp *ChatResponse) error {
	if !resp.Handoff || resp.HandoffReason == ReasonAgent {
		return nil
	}
	if s.cfg.Handoffs != nil && s.conv != nil {
		contact := ""
		if known {
			h, ok, err := s.cfg.Handoffs.Latest(ctx, convID)
			if err != nil {
				return fmt.Errorf("server: handoff: %w", err)
			}
			if ok && h.Status != handoff.StatusClosed {
				contact = h.Contact
			}
		}
		resp.ContactRequested = contact == ""
	}
	if msg, next, away := s.afterHours(text); away {
		resp.Answer += " " + msg
		if resp.ContactRequested {
			resp.Answer += " " + text.askContact
		}
		resp.ReplyExpected = next.Format(time.RFC3339)
	}
	return nil
}
