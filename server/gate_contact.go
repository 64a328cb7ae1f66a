package server

import (
	"net/url"
	"path"
	"sort"
	"strings"
)

// contactWords name a contact or support page, in a page's path or title
// (lower case; a path's words are split at "-", "_", "/" and ".").
var contactWords = []string{
	"contact", "contact-us", "contactus", "support", "help-desk", "helpdesk", "customer-service",
	"kontakt", "kontakte", "impressum",
	"yhteystiedot", "yhteys", "ota-yhteytta",
	"контакты", "контакт", "связаться", "поддержка",
	"contacto", "contactanos", "contáctanos", "soporte",
	"nous-contacter", "contactez-nous",
	"kontakta-oss", "kontakti", "sazinies",
}

// ContactPage picks the site's contact page among pages (URL and title of
// each page the index holds), or "" when none looks like one. A page whose
// last path segment is a contact word ("/contact.html", "/kontakt/",
// "/yhteystiedot") wins over one whose title merely contains one ("Contact
// support"), a shallower path over a deeper one; ties go to the shorter URL.
func ContactPage(pages []PageRef) string {
	type cand struct {
		url          string
		score, depth int
	}
	var cands []cand
	for _, p := range pages {
		u, err := url.Parse(p.URL)
		if err != nil {
			continue
		}
		segs := strings.FieldsFunc(strings.ToLower(u.Path), func(r rune) bool { return r == '/' })
		score := 0
		if len(segs) > 0 {
			last := strings.TrimSuffix(segs[len(segs)-1], path.Ext(segs[len(segs)-1]))
			if last == "index" && len(segs) > 1 {
				last = segs[len(segs)-2]
			}
			if isContactWord(last) {
				score = 3
			} else if hasContactWord(last) {
				score = 2
			}
		}
		if score == 0 && hasContactWord(strings.ToLower(p.Title)) {
			score = 1
		}
		if score > 0 {
			cands = append(cands, cand{p.URL, score, len(segs)})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		return len(a.url) < len(b.url)
	})
	return cands[0].url
}

// PageRef is what ContactPage needs to know of a page.
type PageRef struct{ URL, Title string }

func isContactWord(s string) bool {
	for _, w := range contactWords {
		if s == w {
			return true
		}
	}
	return false
}

// hasContactWord reports whether one of s's words (split at anything but
// letters) is a contact word.
func hasContactWord(s string) bool {
	words := strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 0x80)
	})
	for _, w := range words {
		if isContactWord(w) {
			return true
		}
	}
	return isContactWord(s)
}
