package indexer

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sitebot/sitebot/crawler"
)

// Chunk sizes, in characters (runes).
const (
	// TargetChunkChars is the size Split aims at when a section must be cut.
	TargetChunkChars = 1000
	// MaxChunkChars is the size no chunk exceeds, overlap included (a single
	// word longer than that is the only exception).
	MaxChunkChars = 1500
	// maxOverlapChars bounds the sentence repeated at the start of the next
	// piece of a cut section.
	maxOverlapChars = 300
)

// HeadingSep joins the headings of a section's path in Chunk.Heading.
const HeadingSep = " > "

// Split cuts a page into chunks, in document order: one chunk per section
// whose text fits in MaxChunkChars, longer sections cut at line and sentence
// boundaries into pieces of about TargetChunkChars that repeat the previous
// piece's last sentence, then one chunk per FAQ pair (question, newline,
// answer) whose question is not already a section heading of the page.
// Sections without text are skipped. A chunk's URL names the section's
// anchor, or the nearest enclosing section's anchor, or else the page.
func Split(p crawler.Page) []Chunk {
	var chunks []Chunk
	add := func(c Chunk) {
		c.Ord = len(chunks)
		c.ID = p.URL + "#" + strconv.Itoa(c.Ord)
		c.PageURL, c.Title = p.URL, p.Title
		if c.Lang == "" { // a section in another language than the page keeps its own
			c.Lang = p.Lang
		}
		chunks = append(chunks, c)
	}

	headings := make(map[string]bool) // analysed section headings, to skip duplicate FAQs
	var anchors [7]string             // anchors[l]: the anchor in force at heading level l
	for _, s := range p.Sections {
		level := min(max(s.Level, 0), 6)
		anchor := s.Anchor
		for l := level; l < len(anchors); l++ {
			anchors[l] = ""
		}
		if anchor == "" {
			for l := level - 1; l >= 0 && anchor == ""; l-- {
				anchor = anchors[l]
			}
		}
		anchors[level] = anchor
		if key := headingKey(s.Heading); key != "" {
			headings[key] = true
		}

		heading := strings.Join(s.Path, HeadingSep)
		if heading == "" {
			heading = strings.TrimSpace(s.Heading)
		}
		for _, text := range splitText(s.Text, TargetChunkChars, MaxChunkChars) {
			add(Chunk{URL: withAnchor(p.URL, anchor), Heading: heading, Text: text, Lang: s.Lang})
		}
	}

	for _, f := range p.FAQs {
		q, a := strings.TrimSpace(f.Question), strings.TrimSpace(f.Answer)
		if q == "" || a == "" || headings[headingKey(q)] {
			continue
		}
		// An answer too long for one chunk is cut; every piece keeps the question.
		limit := MaxChunkChars - utf8.RuneCountInString(q) - 1
		target := min(TargetChunkChars, limit)
		if limit < 200 { // an absurdly long "question": let the pieces run long
			limit, target = MaxChunkChars, TargetChunkChars
		}
		for _, text := range splitText(a, target, limit) {
			add(Chunk{URL: withAnchor(p.URL, f.Anchor), Heading: q, Text: q + "\n" + text, FAQ: true, Lang: f.Lang})
		}
	}
	return chunks
}

func withAnchor(pageURL, anchor string) string {
	if anchor == "" {
		return pageURL
	}
	return pageURL + "#" + anchor
}

// headingKey compares headings and questions by their terms, ignoring case,
// accents and punctuation.
func headingKey(s string) string { return strings.Join(Terms(s), " ") }

// splitText returns text as one piece when it fits in limit runes, else cut
// into pieces of about target runes at line, then sentence, then word
// boundaries; each piece after the first starts with the last sentence of the
// piece before when that sentence is short. Blank input gives no pieces.
func splitText(text string, target, limit int) []string {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if utf8.RuneCountInString(text) <= limit {
		return []string{text}
	}

	// Units: lines, lines too long for a piece cut into sentences, sentences
	// too long cut at words. Each unit remembers whether a line ends with it.
	type unit struct {
		text    string
		n       int // runes
		endLine bool
	}
	var units []unit
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := []string{line}
		if utf8.RuneCountInString(line) > target {
			parts = nil
			for _, s := range sentences(line) {
				parts = append(parts, cutWords(s, target)...)
			}
		}
		for i, s := range parts {
			units = append(units, unit{s, utf8.RuneCountInString(s), i == len(parts)-1})
		}
	}

	var pieces []string
	var cur []unit
	curSize := 0 // runes in join(cur), plus one
	join := func(us []unit) string {
		var b strings.Builder
		for i, u := range us {
			if i > 0 {
				if us[i-1].endLine {
					b.WriteByte('\n')
				} else {
					b.WriteByte(' ')
				}
			}
			b.WriteString(u.text)
		}
		return b.String()
	}
	fresh := 0 // units in cur that are not overlap
	for _, u := range units {
		if fresh > 0 && curSize+u.n > target {
			pieces = append(pieces, join(cur))
			last := cur[len(cur)-1]
			cur, curSize, fresh = cur[:0:0], 0, 0
			if last.n <= maxOverlapChars && last.n+1+u.n <= limit {
				cur, curSize = append(cur, last), last.n+1
			}
		}
		cur = append(cur, u)
		curSize += u.n + 1
		fresh++
	}
	if fresh > 0 {
		pieces = append(pieces, join(cur))
	}
	return pieces
}

// sentences cuts a line after ".", "!", "?", "…" and their CJK and Arabic
// forms when a space (or the end) follows.
func sentences(line string) []string {
	var out []string
	start := 0
	rs := []rune(line)
	pos := 0 // byte offset of rs[i]
	for i, r := range rs {
		pos += utf8.RuneLen(r)
		if !strings.ContainsRune(".!?…。！？؟", r) {
			continue
		}
		if i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) {
			continue
		}
		if s := strings.TrimSpace(line[start:pos]); s != "" {
			out = append(out, s)
		}
		start = pos
	}
	if s := strings.TrimSpace(line[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// cutWords cuts s at spaces into parts of at most target runes (a single
// longer word stays whole).
func cutWords(s string, target int) []string {
	if utf8.RuneCountInString(s) <= target {
		return []string{s}
	}
	var out []string
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		wn := utf8.RuneCountInString(w)
		if n > 0 && n+1+wn > target {
			out = append(out, b.String())
			b.Reset()
			n = 0
		}
		if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += wn
	}
	if n > 0 {
		out = append(out, b.String())
	}
	return out
}
