package indextest

import (
	"math"
	"strconv"
	"time"

	"github.com/sitebot/sitebot/indexer"
)

// testPage is a page and its chunks as the Indexer would write them.
type testPage struct {
	info   indexer.PageInfo
	chunks []indexer.Chunk
}

// chunkSpec is one chunk of a test page: where it points, what it says and
// its vector (the suite's Dim).
type chunkSpec struct {
	anchor, heading, text string
	faq                   bool
	vector                []float32
}

var indexedAt = time.Date(2024, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

func page(url, title, lang, hash string, specs ...chunkSpec) testPage {
	p := testPage{info: indexer.PageInfo{
		URL: url, Title: title, Lang: lang, Hash: hash, IndexedAt: indexedAt,
		ETag: `"` + hash + `"`, LastModified: "Mon, 01 Jan 2024 10:00:00 GMT",
		Links: []string{url + "/next"},
	}}
	for i, s := range specs {
		c := indexer.Chunk{
			ID: url + "#" + strconv.Itoa(i), PageURL: url, URL: url,
			Title: title, Heading: s.heading, Text: s.text, Lang: lang,
			Ord: i, FAQ: s.faq, Vector: s.vector,
		}
		if s.anchor != "" {
			c.URL = url + "#" + s.anchor
		}
		if s.faq {
			p.info.FAQs++
		}
		p.chunks = append(p.chunks, c)
	}
	return p
}

// vec returns v scaled to unit length, as embedding models return them.
func vec(v ...float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(n))
	}
	return out
}

func withoutVectors(chunks []indexer.Chunk) []indexer.Chunk {
	out := make([]indexer.Chunk, len(chunks))
	for i, c := range chunks {
		c.Vector = nil
		out[i] = c
	}
	return out
}

var (
	billing = page("https://shop.test/docs/billing", "Billing", "en", "b1",
		chunkSpec{anchor: "cancel", heading: "Billing > Cancel your subscription",
			text:   "Open Settings, then Subscription, and click Cancel. Your plan stays active until the end of the period. Sitebot keeps your data.",
			vector: vec(1, 0, 0, 0)},
		chunkSpec{anchor: "invoices", heading: "Billing > Download invoices",
			text:   "Every invoice is in Settings under Invoices. Paddle also e-mails each invoice to the account owner.",
			vector: vec(0.8, 0.6, 0, 0)},
		chunkSpec{anchor: "paypal", heading: "Billing > Do you accept PayPal?",
			text: "Do you accept PayPal?\nYes, PayPal and all major cards.", faq: true,
			vector: vec(0.6, 0.8, 0, 0)},
	)
	// billingV2 replaces billing: one chunk, new words, no PayPal.
	billingV2 = page("https://shop.test/docs/billing", "Billing and refunds", "en", "b2",
		chunkSpec{anchor: "refunds", heading: "Billing and refunds > Refunds",
			text:   "A refund of your subscription is possible within 14 days. Write to Sitebot support.",
			vector: vec(0, 1, 0, 0)},
	)
	shipping = page("https://shop.test/docs/shipping", "Shipping", "en", "s1",
		chunkSpec{anchor: "times", heading: "Shipping > Shipping times",
			text:   "Parcels leave our warehouse within two days; shipping takes three to five days in Europe. Sitebot tracks every parcel.",
			vector: vec(0, 0, 1, 0)},
	)
	privacy = page("https://shop.test/blog/privacy", "Privacy", "en", "p1",
		chunkSpec{anchor: "cookies", heading: "Privacy > Cookies",
			text:   "We use no cookies. Sitebot stores nothing in the browser; the subscription page mentions cookies once.",
			vector: vec(0, 0, 0, 1)},
	)
	russian = page("https://shop.test/ru/faq", "Часто задаваемые вопросы", "ru", "r1",
		chunkSpec{anchor: "стоимость", heading: "Часто задаваемые вопросы > Сколько стоят услуги?",
			text:   "Мы не берём плату за наши сертификаты. Sitebot отвечает на вопросы. Ёлка.",
			vector: vec(0, 0.5, 0.5, 0.5)},
	)
	all = []testPage{billing, shipping, privacy, russian}
)
