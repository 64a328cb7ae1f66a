package server

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A model's answer may hold links the site never had: invented, copied from
// a page's text, or planted by a prompt injection (a tracking image, a
// phishing link, javascript:). Before the visitor sees an answer, every link
// in it is checked; only absolute http(s) URLs to one of the site's hosts
// survive:
//
//   - a plain URL (http://, https://, ftp://, www., javascript:, vbscript:,
//     data:, file:) is removed;
//   - a markdown link [text](url) becomes its text (itself checked);
//   - a markdown image ![alt](url) is removed entirely;
//   - an autolink <url> (or anything URL-like in angle brackets) is removed;
//   - an HTML tag with a URL attribute (<a href>, <img src>, <iframe src>,
//     <form action>, ...) is removed, tag only, when any of them is off-site.
//
// Streaming: linkFilter holds back the tail of the text that could still
// become one of these (an unclosed "[", "<", "](", or a word that could be
// the start of a URL) until it is complete, so a forbidden link never
// reaches the visitor in pieces. The hold is bounded by maxLinkHold bytes;
// beyond that the tail is checked as it stands (a URL cut there is judged
// by its host, which it already holds).

// maxLinkHold bounds how many bytes of an unfinished construct are held back.
const maxLinkHold = 2048

// hostSet is the set of hosts links may point to (lower-case host names).
type hostSet map[string]bool

// newHostSet parses hosts, origins or URLs ("docs.example.com",
// "https://docs.example.com:8443", "https://docs.example.com/page").
func newHostSet(items ...string) hostSet {
	hs := hostSet{}
	hs.add(items...)
	return hs
}

func (hs hostSet) add(items ...string) {
	for _, it := range items {
		if h := hostOf(it); h != "" {
			hs[h] = true
		}
	}
}

func hostOf(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(s, "[]"), "."))
}

// allows reports whether link is an absolute http(s) URL to one of the
// hosts, with no credentials and nothing a browser would read differently
// (backslashes, control characters, spaces).
func (hs hostSet) allows(link string) bool {
	link = strings.TrimSpace(link)
	if link == "" || strings.ContainsAny(link, "\\ \t\r\n\"'<>`") {
		return false
	}
	for _, r := range link {
		if unicode.IsControl(r) {
			return false
		}
	}
	if len(link) >= 4 && strings.EqualFold(link[:4], "www.") {
		link = "http://" + link
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" {
		return false
	}
	return hs[strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))]
}

// linkFilter passes streamed text on to emit with its links checked.
type linkFilter struct {
	hosts hostSet
	emit  func(string) error
	buf   string
}

// Write adds tok to the text and emits what is complete of it.
func (f *linkFilter) Write(tok string) error {
	f.buf += tok
	out, n := scanLinks(f.buf, false, f.hosts)
	if len(f.buf)-n > maxLinkHold {
		out, n = scanLinks(f.buf, true, f.hosts)
	}
	f.buf = f.buf[n:]
	if out == "" {
		return nil
	}
	return f.emit(out)
}

// Close emits what is held back, as the end of the text.
func (f *linkFilter) Close() error {
	out, _ := scanLinks(f.buf, true, f.hosts)
	f.buf = ""
	if out == "" {
		return nil
	}
	return f.emit(out)
}

// sanitizeLinks is the whole-text form of linkFilter.
func sanitizeLinks(text string, hosts hostSet) string {
	out, _ := scanLinks(text, true, hosts)
	return out
}

type scanState int

const (
	notLink scanState = iota
	complete
	incomplete
)

// urlStarts are what begins a plain URL; the ones ending in ":" need a
// character other than a space after them.
var urlStarts = []string{"https://", "http://", "ftp://", "www.", "javascript:", "vbscript:", "data:", "file:"}

const maxURLStart = len("javascript:")

// scanLinks checks the links in s and returns the checked text of its
// first n bytes. Unless final, n stops before anything that is not
// complete yet (an unclosed link, tag or URL, or a tail that may become one).
func scanLinks(s string, final bool, hosts hostSet) (out string, n int) {
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for i < len(s) {
		c := s[i]
		switch c {
		case '!':
			if i+1 == len(s) && !final {
				return b.String(), i
			}
			if i+1 < len(s) && s[i+1] == '[' {
				_, end, dest, st := parseMarkdownLink(s, i+1, final)
				if st == incomplete {
					return b.String(), i
				}
				if st == complete {
					if hosts.allows(dest) {
						b.WriteString(s[i:end])
					}
					i = end
					continue
				}
			}
		case '[':
			text, end, dest, st := parseMarkdownLink(s, i, final)
			if st == incomplete {
				return b.String(), i
			}
			if st == complete {
				if hosts.allows(dest) {
					b.WriteString(s[i:end])
				} else {
					b.WriteString(sanitizeLinks(text, hosts))
				}
				i = end
				continue
			}
		case '<':
			end, keep, st := parseAngle(s, i, final, hosts)
			if st == incomplete {
				return b.String(), i
			}
			if st == complete {
				if keep {
					b.WriteString(s[i:end])
				}
				i = end
				continue
			}
		default:
			if end, st := matchPlainURL(s, i, final); st != notLink {
				if st == incomplete {
					return b.String(), i
				}
				if hosts.allows(s[i:end]) {
					b.WriteString(s[i:end])
				}
				i = end
				continue
			}
			if !final && len(s)-i < maxURLStart && mayStartURL(s[i:]) {
				return b.String(), i
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String(), len(s)
}

// mayStartURL reports whether rest is the beginning of a URL start.
func mayStartURL(rest string) bool {
	for _, p := range urlStarts {
		if len(rest) < len(p) && strings.EqualFold(rest, p[:len(rest)]) {
			return true
		}
	}
	return false
}

// matchPlainURL reports whether a plain URL starts at s[i], and where it ends.
func matchPlainURL(s string, i int, final bool) (end int, st scanState) {
	start := ""
	for _, p := range urlStarts {
		if len(s)-i >= len(p) && strings.EqualFold(s[i:i+len(p)], p) {
			start = p
			break
		}
	}
	if start == "" {
		return 0, notLink
	}
	if start == "www." && i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWordRune(r) {
			return 0, notLink
		}
	}
	j := i + len(start)
	if j == len(s) {
		if final {
			return 0, notLink
		}
		return 0, incomplete
	}
	if r, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsSpace(r) {
		return 0, notLink // "data: 5 GB" is prose
	}
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) || strings.ContainsRune("<>\"'`", r) {
			break
		}
		j += size
	}
	if j == len(s) && !final {
		return 0, incomplete
	}
	// Trailing punctuation ends the sentence, not the URL; so does a ")"
	// or "]" that closes something opened before the URL.
	for j > i+len(start) {
		c := s[j-1]
		switch {
		case strings.IndexByte(".,;:!?*_~", c) >= 0:
			j--
			continue
		case c == ')' && strings.Count(s[i:j], "(") < strings.Count(s[i:j], ")"):
			j--
			continue
		case c == ']' && strings.Count(s[i:j], "[") < strings.Count(s[i:j], "]"):
			j--
			continue
		}
		break
	}
	return j, complete
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// parseMarkdownLink parses an inline link [text](dest "title") at s[i] == '['.
func parseMarkdownLink(s string, i int, final bool) (text string, end int, dest string, st scanState) {
	more := incomplete
	if final {
		more = notLink
	}
	j, depth := i+1, 1
	for ; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			depth++
		case ']':
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if j >= len(s) {
		return "", 0, "", more
	}
	text = s[i+1 : j]
	j++
	if j == len(s) {
		return "", 0, "", more
	}
	if s[j] != '(' {
		return "", 0, "", notLink
	}
	j = skipSpace(s, j+1)
	if j == len(s) {
		return "", 0, "", more
	}
	if s[j] == '<' {
		k := strings.IndexAny(s[j+1:], ">\n")
		if k < 0 {
			return "", 0, "", more
		}
		if s[j+1+k] == '\n' {
			return "", 0, "", notLink
		}
		dest, j = s[j+1:j+1+k], j+k+2
	} else {
		start, parens := j, 0
	dest:
		for ; j < len(s); j++ {
			switch c := s[j]; {
			case c == '\\':
				j++
			case c == '(':
				parens++
			case c == ')':
				if parens == 0 {
					break dest
				}
				parens--
			case c <= ' ':
				break dest
			}
		}
		if j >= len(s) {
			return "", 0, "", more
		}
		dest = s[start:j]
	}
	j = skipSpace(s, j)
	if j == len(s) {
		return "", 0, "", more
	}
	if q := s[j]; q == '"' || q == '\'' || q == '(' {
		closer := q
		if q == '(' {
			closer = ')'
		}
		k := strings.IndexByte(s[j+1:], closer)
		if k < 0 {
			return "", 0, "", more
		}
		j = skipSpace(s, j+k+2)
		if j == len(s) {
			return "", 0, "", more
		}
	}
	if s[j] != ')' {
		return "", 0, "", notLink
	}
	return text, j + 1, dest, complete
}

func skipSpace(s string, j int) int {
	for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
		j++
	}
	return j
}

var (
	tagStart = regexp.MustCompile(`^</?[A-Za-z][A-Za-z0-9-]*`)
	// urlAttr matches the attributes of HTML that hold URLs.
	urlAttr = regexp.MustCompile(`(?i)(?:^|[\s/"'])(?:href|src|srcset|action|formaction|data|poster|background|cite|ping|xlink:href|lowsrc|dynsrc)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
)

// parseAngle parses what starts with "<" at s[i]: an HTML tag (kept unless
// one of its URL attributes is off-site), an autolink or anything else
// URL-like in angle brackets with no space (kept only when allowed), or
// plain text (notLink).
func parseAngle(s string, i int, final bool, hosts hostSet) (end int, keep bool, st scanState) {
	more := incomplete
	if final {
		more = notLink
	}
	if i+1 == len(s) {
		return 0, false, more
	}
	if name := tagStart.FindString(s[i:]); name != "" || (s[i+1] == '/' && i+2 == len(s)) {
		if len(name) == len(s)-i || name == "" {
			return 0, false, more // "</" or "<im": the name goes on
		}
		if next := s[i+len(name)]; next == '>' || next == '/' || unicode.IsSpace(rune(next)) {
			// A tag: find its end, honouring quotes.
			var quote byte
			for j := i + len(name); j < len(s); j++ {
				c := s[j]
				switch {
				case quote != 0:
					if c == quote {
						quote = 0
					}
				case c == '"' || c == '\'':
					quote = c
				case c == '>':
					tag := s[i : j+1]
					for _, m := range urlAttr.FindAllStringSubmatch(tag, -1) {
						if v := strings.Trim(m[1], `"'`); !hosts.allows(v) {
							return j + 1, false, complete
						}
					}
					return j + 1, true, complete
				case c == '<':
					return 0, false, notLink
				}
			}
			return 0, false, more
		}
	}
	// <url>: no space or "<" before the closing ">".
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '>':
			if j == i+1 {
				return 0, false, notLink
			}
			return j + 1, hosts.allows(s[i+1 : j]), complete
		case c == '<' || c <= ' ':
			return 0, false, notLink
		}
	}
	return 0, false, more
}
