package crawler

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readJSONL[T any](t *testing.T, rel string) []T {
	t.Helper()
	f, err := os.Open(testenv.Shared(t, rel))
	require.NoError(t, err)
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v T
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// TestAddressPolicyBoundaries classifies the shared boundary addresses:
// every "block" is blocked, every "allow" allowed (and never dialled).
func TestAddressPolicyBoundaries(t *testing.T) {
	cases := readJSONL[struct{ Host, Expect, Range string }](t, "fixtures/attacks/ssrf/ssrf_address_boundaries.jsonl")
	require.Len(t, cases, 60)
	p := &AddressPolicy{}
	for _, c := range cases {
		t.Run(c.Host, func(t *testing.T) {
			ip, ok := parseIPHost(c.Host)
			require.True(t, ok, "an IP literal or inet_aton spelling")
			err := p.Check(ip)
			if c.Expect == "block" {
				require.ErrorIs(t, err, ErrBlockedAddress, c.Range)
			} else {
				require.NoError(t, err, c.Range)
			}
		})
	}
}

func TestAddressPolicyCheck(t *testing.T) {
	blocked := []string{
		"127.0.0.1", "0.0.0.0", "10.1.2.3", "172.20.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254",
		"192.0.0.170", "192.0.2.5", "198.51.100.7", "203.0.113.9", "198.19.255.255", "224.0.0.251", "239.255.255.250",
		"240.0.0.1", "255.255.255.255",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:a9fe:a9fe", "::127.0.0.1", "::8.8.8.8",
		"fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
		"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b:1::1",
		"2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:0101::1",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
		"2001:db8::1", "3fff::1", "100::1", "4000::1",
	}
	allowed := []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "::ffff:8.8.8.8", "2606:4700:4700::1111",
		"64:ff9b::808:808", "2002:808:808::1",
	}
	p := &AddressPolicy{}
	for _, s := range blocked {
		err := p.Check(netip.MustParseAddr(s))
		assert.ErrorIs(t, err, ErrBlockedAddress, s)
	}
	for _, s := range allowed {
		assert.NoError(t, p.Check(netip.MustParseAddr(s)), s)
	}
	assert.Contains(t, p.Check(netip.MustParseAddr("169.254.169.254")).Error(), "link-local")
	assert.ErrorIs(t, p.Check(netip.Addr{}), ErrBlockedAddress)
	var none *AddressPolicy
	assert.NoError(t, none.Check(netip.MustParseAddr("127.0.0.1")), "nil policy allows all")

	intranet := &AddressPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd00::/8")}}
	assert.NoError(t, intranet.Check(netip.MustParseAddr("10.1.2.3")))
	assert.NoError(t, intranet.Check(netip.MustParseAddr("::ffff:10.1.2.3")), "mapped forms of allowed addresses")
	assert.NoError(t, intranet.Check(netip.MustParseAddr("fd00:ec2::254")))
	assert.ErrorIs(t, intranet.Check(netip.MustParseAddr("10.2.0.1")), ErrBlockedAddress)
}

func TestParseIPHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"[::1]", "::1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0xA9.0xFE.0xA9.0xFE", "169.254.169.254"},
		{"10.0.0.1.", "10.0.0.1"},
	}
	for _, tt := range tests {
		ip, ok := parseIPHost(tt.in)
		if assert.True(t, ok, tt.in) {
			assert.Equal(t, tt.want, ip.String(), tt.in)
		}
	}
	for _, name := range []string{"example.com", "localhost", "425.510.425.510", "o177.0.0.1", "0x41414141A9FEA9FE", "1.2.3.4.5", "", "08.0.0.1", "1..2"} {
		_, ok := parseIPHost(name)
		assert.False(t, ok, name)
	}
}

// countingListener accepts connections on every local address and counts them.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func listenCounting(t *testing.T, addr string) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	cl := &countingListener{Listener: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cl.n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return cl
}

func (cl *countingListener) port() uint16 {
	return uint16(cl.Addr().(*net.TCPAddr).Port)
}

// TestCrawlSSRFPayloads gives every shared SSRF payload to a guarded
// crawler as its start URL. Names resolve, through a stub, to the payload's
// target; every address the dialer lets through is redirected to a local
// listener that counts connections. With a policy none arrives.
func TestCrawlSSRFPayloads(t *testing.T) {
	payloads := readJSONL[struct{ URL, Category, Needs, Target string }](t, "fixtures/attacks/ssrf/ssrf_payloads.jsonl")
	require.Len(t, payloads, 149)
	ln := listenCounting(t, ":0")

	targets := map[string]netip.Addr{}
	for _, p := range payloads {
		u, err := url.Parse(p.URL)
		if err != nil || u.Hostname() == "" {
			continue
		}
		target, err := netip.ParseAddr(strings.Fields(p.Target + " x")[0])
		if err != nil {
			target = netip.MustParseAddr("127.0.0.1") // "rancher metadata service", "127.x"...
		}
		targets[strings.ToLower(u.Hostname())] = target
	}
	var (
		mu       sync.Mutex
		rebinds  int
		attempts []netip.AddrPort
	)
	resolver := func(_ context.Context, host string) ([]netip.Addr, error) {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		if strings.Contains(host, "rebind") {
			// DNS rebinding: a public answer first, the internal one after.
			mu.Lock()
			defer mu.Unlock()
			rebinds++
			if rebinds == 1 {
				return []netip.Addr{netip.MustParseAddr("1.2.3.4")}, nil
			}
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		}
		if ip, ok := targets[host]; ok {
			return []netip.Addr{ip}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	// Where a dial that passed the first check really goes: loopback stays
	// loopback (on the listener's port), anything else becomes 127.0.0.1.
	toListener := func(ap netip.AddrPort) netip.AddrPort {
		mu.Lock()
		attempts = append(attempts, ap)
		mu.Unlock()
		if ap.Addr().IsLoopback() {
			return netip.AddrPortFrom(ap.Addr(), ln.port())
		}
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ln.port())
	}
	crawl := func(policy *AddressPolicy, start string) error {
		c := New(Options{Policy: policy, Resolver: resolver, Retries: -1, RequestTimeout: 2 * time.Second})
		c.dialer.redirect = toListener
		_, err := c.Crawl(context.Background(), start, func(context.Context, Page) error { return nil })
		return err
	}

	// The harness works: without a policy the loopback payloads arrive.
	for _, start := range []string{"http://127.0.0.1:80", "http://localhost:22", "http://2130706433/", "http://[::ffff:127.0.0.1]"} {
		require.Error(t, crawl(nil, start))
	}
	require.Positive(t, ln.n.Load(), "the unguarded crawler reaches the listener")
	ln.n.Store(0)
	mu.Lock()
	attempts = nil
	mu.Unlock()

	for _, p := range payloads {
		t.Run(p.URL, func(t *testing.T) {
			err := crawl(&AddressPolicy{}, p.URL)
			require.Error(t, err)
			if (p.Needs == "parse" || p.Needs == "dns") && strings.HasPrefix(p.URL, "http") {
				assert.ErrorIs(t, err, ErrBlockedAddress, p.Category)
			}
		})
	}
	assert.Zero(t, ln.n.Load(), "no connection reached the listener")
	mu.Lock()
	defer mu.Unlock()
	for _, ap := range attempts {
		assert.Empty(t, nonPublic(ap.Addr()), "only public addresses pass the first check (%s)", ap)
	}
}

// TestCrawlSSRFRedirect: an allowed site redirects (pages and robots.txt)
// and links to a loopback address the policy does not allow.
func TestCrawlSSRFRedirect(t *testing.T) {
	internal := listenCounting(t, "127.0.0.2:0")
	inside := "http://" + internal.Addr().String()
	resolver := func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "internal.test" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.2")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	redirectTo := func(target string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusFound) }
	}
	srv := testSite(t, map[string]http.HandlerFunc{
		"/":           serveHTML(htmlPage("Home", "/go", "/go-name", "/go-meta", "/ok")),
		"/ok":         serveHTML(htmlPage("OK")),
		"/go":         redirectTo(inside + "/admin"),
		"/go-name":    redirectTo(fmt.Sprintf("http://internal.test:%d/admin", internal.port())),
		"/go-meta":    redirectTo("http://169.254.169.254/latest/meta-data/"),
		"/robots.txt": redirectTo(inside + "/robots.txt"),
	})
	self := netip.MustParsePrefix("127.0.0.1/32")
	policy := &AddressPolicy{Allow: []netip.Prefix{self}}

	// robots.txt redirects inside: nothing may be crawled.
	_, _, err := crawlCollect(t, Options{Policy: policy, Resolver: resolver}, srv.URL+"/")
	require.ErrorIs(t, err, ErrBlockedAddress)
	assert.Zero(t, internal.n.Load())

	// Pages that redirect inside are skipped with the reason.
	srv2 := testSite(t, map[string]http.HandlerFunc{
		"/":        serveHTML(htmlPage("Home", "/go", "/go-name", "/ok", inside+"/linked")),
		"/ok":      serveHTML(htmlPage("OK")),
		"/go":      redirectTo(inside + "/admin"),
		"/go-name": redirectTo(fmt.Sprintf("http://internal.test:%d/admin", internal.port())),
		"/sitemap.xml": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `<urlset><url><loc>%s/from-sitemap</loc></url></urlset>`, inside)
		},
	})
	host := strings.TrimPrefix(inside, "http://")
	pages, rep, err := crawlCollect(t, Options{Policy: policy, Resolver: resolver, AllowedHosts: []string{host, "internal.test:" + fmt.Sprint(internal.port())}}, srv2.URL+"/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{srv2.URL + "/", srv2.URL + "/ok"}, mapsKeys(pages))
	reasons := skipReasons(rep)
	assert.Contains(t, reasons[srv2.URL+"/go"], "address policy")
	assert.Contains(t, reasons[srv2.URL+"/go-name"], "address policy")
	assert.Empty(t, rep.Failed, "a blocked address is not a page that may still exist")
	assert.Zero(t, internal.n.Load(), "no connection reached the internal listener")

	// Allow works: with 127.0.0.0/8 allowed, the loopback site is crawled.
	loopback := &AddressPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	pages, _, err = crawlCollect(t, Options{Policy: loopback, Resolver: resolver, AllowedHosts: []string{host}, Retries: -1}, srv2.URL+"/")
	require.NoError(t, err)
	assert.Contains(t, pages, srv2.URL+"/ok")
	assert.Positive(t, internal.n.Load(), "now the redirect target is allowed")
}

func TestCrawlPolicyErrors(t *testing.T) {
	visit := func(context.Context, Page) error { return nil }
	_, err := New(Options{Policy: &AddressPolicy{}}).Crawl(context.Background(), "http://169.254.169.254/latest/", visit)
	require.ErrorIs(t, err, ErrBlockedAddress)
	assert.Contains(t, err.Error(), "169.254.169.254")
	assert.NotErrorIs(t, err, ErrUnreachable)

	_, err = New(Options{Policy: &AddressPolicy{}}).Crawl(context.Background(), "http://0x7f.1:8080/", visit)
	require.ErrorIs(t, err, ErrBlockedAddress, "inet_aton spellings are IP literals too")

	_, err = New(Options{Policy: &AddressPolicy{}, Client: http.DefaultClient}).Crawl(context.Background(), "https://example.com/", visit)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Policy cannot be combined with Options.Client")
	assert.False(t, errors.Is(err, ErrBlockedAddress))
}
