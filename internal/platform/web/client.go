package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads a comma-separated list of CIDRs (a bare address
// counts as a single host), as given to `serve --trusted-proxies`.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("web: trusted proxy %q is neither a CIDR nor an address", part)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("web: trusted proxy %q is not a CIDR such as 10.0.0.0/8", part)
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 means 10.0.0.0/8; addresses are compared unmapped.
			bits := p.Bits() - 96
			if bits < 0 {
				return nil, fmt.Errorf("web: trusted proxy %q is wider than the IPv4 space", part)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ClientAddr is the address of the client that sent r, as the server's
// middleware decided it once: the direct peer, or, when the peer is one of
// the trusted proxies, the right-most address in X-Forwarded-For that is not
// a trusted proxy. Outside the middleware (a handler called directly) it is
// the direct peer.
func ClientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(keyClientAddr).(string); ok {
		return a
	}
	return clientAddr(r, nil)
}

// clientAddr decides the client address of r given the trusted proxies.
// Only proxies we trust append to X-Forwarded-For on our behalf, so the list
// is read from the right and everything left of the first untrusted address
// (which the client itself may have sent) is ignored.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.WithZone("").Unmap()
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := forwardedFor(r.Header)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			// Garbage can only come from the client's side of the chain:
			// the nearest trusted hop is as far as we can tell.
			break
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client.String()
}

// forwardedFor lists the X-Forwarded-For entries of every header line, in
// order.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, e := range strings.Split(line, ",") {
			out = append(out, strings.TrimSpace(e))
		}
	}
	return out
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port as some proxies write it ("192.0.2.1:5000", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// withClientAddr decides the client address once per request.
func (s *Server) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), keyClientAddr, clientAddr(r, s.TrustedProxies))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
