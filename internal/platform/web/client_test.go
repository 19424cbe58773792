package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"kompas/internal/platform/web"
)

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"10.0.0.0/8,127.0.0.1/32", []string{"10.0.0.0/8", "127.0.0.1/32"}, false},
		{" 10.0.0.0/8 , 2001:db8::/32 ,", []string{"10.0.0.0/8", "2001:db8::/32"}, false},
		{"192.0.2.7", []string{"192.0.2.7/32"}, false},
		{"2001:db8::1", []string{"2001:db8::1/128"}, false},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, false}, // host bits dropped
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}, false},
		{"10.0.0.0/33", nil, true},
		{"proxy.example", nil, true},
		{"10.0.0.0/8;127.0.0.1", nil, true},
		{"::ffff:0:0/90", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := web.ParseTrustedProxies(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseTrustedProxies(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ParseTrustedProxies(%q) = %v, want %v", tt.in, s, tt.want)
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := web.ParseTrustedProxies("10.0.0.0/8,127.0.0.1/32,2001:db8:ffff::/48")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string // header lines
		want    string
	}{
		{"direct peer", trusted, "192.0.2.1:1234", nil, "192.0.2.1"},
		{"direct IPv6 peer", trusted, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"IPv4-mapped peer is unmapped", trusted, "[::ffff:192.0.2.1]:443", nil, "192.0.2.1"},
		{"IPv6 zone dropped", trusted, "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"unparsable peer kept as given", trusted, "no-port", nil, "no-port"},
		{"spoofed XFF from an untrusted peer is ignored", trusted, "192.0.2.1:1234", []string{"203.0.113.9"}, "192.0.2.1"},
		{"no proxies trusted: XFF ignored", nil, "10.0.0.5:1234", []string{"203.0.113.9"}, "10.0.0.5"},
		{"trusted proxy, one hop", trusted, "10.0.0.5:1234", []string{"203.0.113.9"}, "203.0.113.9"},
		{"trusted proxy without XFF is the client", trusted, "10.0.0.5:1234", nil, "10.0.0.5"},
		{"chain of trusted proxies", trusted, "127.0.0.1:1234", []string{"203.0.113.9, 10.1.1.1, 10.2.2.2"}, "203.0.113.9"},
		{"client's own XFF left of the real client is ignored", trusted, "10.0.0.5:1234", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"spoofed trusted address left of the client is ignored", trusted, "10.0.0.5:1234", []string{"10.9.9.9, 203.0.113.9"}, "203.0.113.9"},
		{"several header lines read in order", trusted, "10.0.0.5:1234", []string{"198.51.100.1", "203.0.113.9, 10.1.1.1"}, "203.0.113.9"},
		{"hop with a port", trusted, "10.0.0.5:1234", []string{"203.0.113.9:5000"}, "203.0.113.9"},
		{"IPv6 hop with a port", trusted, "10.0.0.5:1234", []string{"[2001:db8::7]:5000"}, "2001:db8::7"},
		{"trusted IPv6 proxy", trusted, "[2001:db8:ffff::1]:443", []string{"2001:db8::7"}, "2001:db8::7"},
		{"every hop trusted: the left-most", trusted, "10.0.0.5:1234", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"garbage stops at the nearest trusted hop", trusted, "10.0.0.5:1234", []string{"203.0.113.9, <script>, 10.1.1.1"}, "10.1.1.1"},
		{"empty XFF", trusted, "10.0.0.5:1234", []string{""}, "10.0.0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
			srv.TrustedProxies = tt.trusted
			srv.Page("GET /who", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
				_, err := io.WriteString(w, web.ClientAddr(r))
				return err
			})
			req := httptest.NewRequest("GET", "/who", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("ClientAddr = %q, want %q", got, tt.want)
			}
		})
	}
	// Called outside the middleware, it is the direct peer, whatever the
	// request claims.
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.5:1234"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := web.ClientAddr(req); got != "10.0.0.5" {
		t.Errorf("ClientAddr outside the middleware = %q, want the peer", got)
	}
}
