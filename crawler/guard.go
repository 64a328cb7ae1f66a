package crawler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrBlockedAddress: the crawler refused to connect to an address that an
// AddressPolicy does not allow (loopback, private, link-local, ...).
var ErrBlockedAddress = errors.New("address not allowed")

// AddressPolicy says which IP addresses the crawler may connect to: every
// public unicast address, and those inside Allow. It guards a crawler that
// fetches URLs chosen by others (a hosted service) against server-side
// request forgery: loopback, private networks, cloud metadata endpoints and
// the like are refused, whatever name, redirect or DNS answer leads to them.
type AddressPolicy struct {
	// Allow lists ranges that are allowed although they are not public,
	// e.g. the company's intranet (10.1.0.0/16).
	Allow []netip.Prefix
}

// Check returns nil when the policy allows connecting to ip, else an error
// that wraps ErrBlockedAddress and names the range. A nil policy allows
// everything.
func (p *AddressPolicy) Check(ip netip.Addr) error {
	if p == nil {
		return nil
	}
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlockedAddress)
	}
	ip = ip.WithZone("")
	for _, pr := range p.Allow {
		if pr.Contains(ip) || pr.Contains(ip.Unmap()) {
			return nil
		}
	}
	if why := nonPublic(ip); why != "" {
		return fmt.Errorf("%w: %s is %s", ErrBlockedAddress, ip, why)
	}
	return nil
}

type namedPrefix struct {
	prefix netip.Prefix
	name   string
}

func prefixes(pairs ...string) []namedPrefix {
	out := make([]namedPrefix, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, namedPrefix{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

// IANA IPv4 special-purpose registry: every range that is not globally
// reachable unicast.
var blockedV4 = prefixes(
	"0.0.0.0/8", "this network (0.0.0.0/8)",
	"10.0.0.0/8", "private (10.0.0.0/8)",
	"100.64.0.0/10", "shared address space / CGNAT (100.64.0.0/10)",
	"127.0.0.0/8", "loopback (127.0.0.0/8)",
	"169.254.0.0/16", "link-local (169.254.0.0/16, cloud metadata)",
	"172.16.0.0/12", "private (172.16.0.0/12)",
	"192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)",
	"192.0.2.0/24", "documentation (192.0.2.0/24)",
	"192.88.99.0/24", "6to4 relay anycast (192.88.99.0/24)",
	"192.168.0.0/16", "private (192.168.0.0/16)",
	"198.18.0.0/15", "benchmarking (198.18.0.0/15)",
	"198.51.100.0/24", "documentation (198.51.100.0/24)",
	"203.0.113.0/24", "documentation (203.0.113.0/24)",
	"224.0.0.0/4", "multicast (224.0.0.0/4)",
	"255.255.255.255/32", "broadcast",
	"240.0.0.0/4", "reserved (240.0.0.0/4)",
)

// IPv6 ranges inside 2000::/3 (global unicast) that are not public;
// anything outside 2000::/3 is refused as well, except NAT64 (below).
var blockedV6 = prefixes(
	"2001::/32", "Teredo (2001::/32)",
	"2001:db8::/32", "documentation (2001:db8::/32)",
	"2001::/23", "IETF protocol assignments (2001::/23)",
	"3fff::/20", "documentation (3fff::/20)",
)

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4  = netip.MustParsePrefix("2002::/16")
	global6 = netip.MustParsePrefix("2000::/3")
	compat  = netip.MustParsePrefix("::/96")
)

// nonPublic names the special range ip is in, or "" for a public unicast
// address. IPv4-mapped addresses are unmapped first; NAT64 and 6to4
// addresses are judged by the IPv4 address they embed.
func nonPublic(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		for _, p := range blockedV4 {
			if p.prefix.Contains(ip) {
				return p.name
			}
		}
		return ""
	}
	b := ip.As16()
	switch {
	case ip.IsUnspecified():
		return "unspecified (::)"
	case ip.IsLoopback():
		return "loopback (::1)"
	case compat.Contains(ip):
		return "IPv4-compatible IPv6 (::/96, deprecated)"
	case nat64.Contains(ip):
		if why := nonPublic(netip.AddrFrom4([4]byte(b[12:16]))); why != "" {
			return "NAT64 of " + why
		}
		return ""
	case sixTo4.Contains(ip):
		if why := nonPublic(netip.AddrFrom4([4]byte(b[2:6]))); why != "" {
			return "6to4 of " + why
		}
		return ""
	case ip.IsLinkLocalUnicast():
		return "link-local (fe80::/10)"
	case ip.IsMulticast():
		return "multicast (ff00::/8)"
	case netip.MustParsePrefix("fc00::/7").Contains(ip):
		return "unique local (fc00::/7)"
	case !global6.Contains(ip):
		return "not global unicast (outside 2000::/3)"
	}
	for _, p := range blockedV6 {
		if p.prefix.Contains(ip) {
			return p.name
		}
	}
	return ""
}

// parseIPHost reads a URL host (without port or brackets) as an IP address
// the way resolvers do: IPv6 literals, dotted IPv4 and the inet_aton
// spellings ("2130706433", "0x7f.1", "0177.0.0.1", "127.1"). ok is false for
// a name that needs DNS.
func parseIPHost(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.WithZone(""), true
	}
	host = strings.TrimSuffix(host, ".")
	parts := strings.Split(host, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		base, digits := 10, p
		switch {
		case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
			base, digits = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		if digits == "" || strings.ContainsAny(digits, "+-_") {
			return netip.Addr{}, false
		}
		n, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	var v uint64
	last := len(nums) - 1
	for i, n := range nums[:last] {
		if n > 0xff {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	if nums[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	v |= nums[last]
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// Resolver looks up the IP addresses of a host name.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// guardDialer resolves names itself so that every address it dials has been
// checked, and checks again, in the socket's Control hook, the address the
// connection really goes to.
type guardDialer struct {
	policy  *AddressPolicy // nil: no restriction
	resolve Resolver
	dialer  net.Dialer
	// redirect, for tests only, changes where a checked address is really
	// dialled (the Control hook checks the changed one too).
	redirect func(netip.AddrPort) netip.AddrPort
}

func newGuardDialer(policy *AddressPolicy, resolve Resolver) *guardDialer {
	d := &guardDialer{policy: policy, resolve: resolve}
	if d.resolve == nil {
		d.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	d.dialer = net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if policy != nil {
		d.dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot read address %q", ErrBlockedAddress, address)
			}
			return policy.Check(ap.Addr())
		}
	}
	return d
}

// DialContext dials addr ("host:port") on the first resolved address the
// policy allows.
func (d *guardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q", portStr)
	}
	var ips []netip.Addr
	if ip, ok := parseIPHost(host); ok {
		ips = []netip.Addr{ip}
	} else {
		ips, err = d.resolve(ctx, host)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		if len(ips) == 0 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}}
		}
	}
	var errs []error
	for _, ip := range ips {
		if err := d.policy.Check(ip); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", host, err))
			continue
		}
		ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
		if d.redirect != nil {
			ap = d.redirect(ap)
		}
		conn, err := d.dialer.DialContext(ctx, network, ap.String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}
