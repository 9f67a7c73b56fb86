package egress_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/egress"
)

func newPolicy(t *testing.T, cfg egress.Config) *egress.Policy {
	t.Helper()
	p, err := egress.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// get fetches url through the policy and rules and returns the refusal,
// if the connection was refused, and any other error.
func get(t *testing.T, p *egress.Policy, rules *egress.Rules, url string) (*http.Response, *egress.RefusedError, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Client(rules, 5*time.Second).Do(req)
	if err != nil {
		var re *egress.RefusedError
		if errors.As(err, &re) {
			return nil, re, nil
		}
		return nil, nil, err
	}
	resp.Body.Close()
	return resp, nil, nil
}

func TestCheckRefusesInternalRanges(t *testing.T) {
	t.Parallel()
	p := newPolicy(t, egress.Config{})
	cases := []struct {
		addr, want string
	}{
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"0.0.0.0", "this network"},
		{"0.1.2.3", "this network"},
		{"::", "unspecified"},
		{"10.1.2.3", "RFC 1918"},
		{"172.16.0.1", "RFC 1918"},
		{"172.31.255.255", "RFC 1918"},
		{"192.168.1.1", "RFC 1918"},
		{"::ffff:192.168.1.1", "RFC 1918"},
		{"169.254.169.254", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"fc00::1", "unique local"},
		{"fd12:3456::1", "unique local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"64:ff9b::7f00:1", "embeds 127.0.0.1; 127.0.0.1 is in 127.0.0.0/8, which is loopback"},
		{"2002:a00:1::1", "embeds 10.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			err := p.Check("", netip.AddrPortFrom(netip.MustParseAddr(c.addr), 80), nil)
			var re *egress.RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("Check(%s) = %v, want a refusal", c.addr, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "STEWARD_EGRESS_ALLOW") {
				t.Errorf("Check(%s): %q does not say %q and how to open it", c.addr, err, c.want)
			}
		})
	}
	for _, a := range []string{"93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1", "172.32.0.1", "::ffff:8.8.8.8"} {
		if err := p.Check("", netip.AddrPortFrom(netip.MustParseAddr(a), 443), nil); err != nil {
			t.Errorf("Check(%s) = %v, want allowed", a, err)
		}
	}
}

func TestOperatorOpensRangesAndHosts(t *testing.T) {
	t.Parallel()
	p := newPolicy(t, egress.Config{Allow: []string{"10.20.0.0/16", "192.168.1.5", "intranet.example.com"}})
	allowed := []struct{ host, addr string }{
		{"", "10.20.3.4"}, {"", "192.168.1.5"}, {"", "::ffff:10.20.0.1"}, {"Intranet.Example.com.", "10.9.9.9"},
	}
	for _, c := range allowed {
		if err := p.Check(c.host, netip.AddrPortFrom(netip.MustParseAddr(c.addr), 80), nil); err != nil {
			t.Errorf("Check(%q, %s) = %v, want allowed", c.host, c.addr, err)
		}
	}
	for _, a := range []string{"10.21.0.1", "192.168.1.6", "127.0.0.1"} {
		if err := p.Check("other.example.com", netip.AddrPortFrom(netip.MustParseAddr(a), 80), nil); err == nil {
			t.Errorf("Check(%s) allowed, want refused", a)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "not a host!", "a..b"} {
		if _, err := egress.New(egress.Config{Allow: []string{bad}}); err == nil {
			t.Errorf("New with allow %q: no error", bad)
		}
	}
}

// TestNumericSpellingsAreRefused connects for real: every spelling of a
// loopback or metadata address is refused before any byte is sent.
func TestNumericSpellingsAreRefused(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	p := newPolicy(t, egress.Config{})
	for _, host := range []string{"127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::1]", "[::ffff:127.0.0.1]",
		"0.0.0.0", "[::]", "localhost", "LOCALHOST.", "169.254.169.254", "0xa9fea9fe"} {
		t.Run(host, func(t *testing.T) {
			_, refused, err := get(t, p, nil, fmt.Sprintf("http://%s:%d/", host, port))
			if refused == nil {
				t.Fatalf("GET via %s: not refused (err %v)", host, err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server was reached %d times", n)
	}
}

// TestHostResolvingToLoopbackIsRefused uses a resolver that answers with
// loopback for a public-looking name, as DNS rebinding would.
func TestHostResolvingToLoopbackIsRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	p := newPolicy(t, egress.Config{Lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}})
	_, refused, err := get(t, p, nil, fmt.Sprintf("http://rebind.example.com:%d/", port))
	if refused == nil || refused.Host != "rebind.example.com" || refused.Addr.Addr().String() != "127.0.0.1" {
		t.Fatalf("refused %v, err %v; want a refusal of 127.0.0.1 for rebind.example.com", refused, err)
	}
	if !strings.Contains(refused.Error(), "rebind.example.com") || !strings.Contains(refused.Error(), "127.0.0.0/8") {
		t.Errorf("message %q should name the host, the address and the range", refused)
	}
}

// listenOn starts a server on a given loopback address.
func listenOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirectToRefusedAddressIsRefused(t *testing.T) {
	t.Parallel()
	var reached atomic.Bool
	inner := listenOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Store(true) }))
	outer := listenOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/secret", http.StatusFound)
	}))
	p := newPolicy(t, egress.Config{Allow: []string{"127.0.0.1/32"}})
	_, refused, err := get(t, p, nil, outer.URL+"/start")
	if refused == nil || refused.Addr.Addr().String() != "127.0.0.2" {
		t.Fatalf("refused %v, err %v; want the redirect to 127.0.0.2 refused", refused, err)
	}
	if reached.Load() {
		t.Error("the refused server was reached")
	}
}

func TestRedirectsAreLimited(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/%d", &n)
		http.Redirect(w, r, fmt.Sprintf("%s/%d", srv.URL, n+1), http.StatusFound)
	}))
	defer srv.Close()
	p := newPolicy(t, egress.Config{Allow: []string{"127.0.0.0/8"}})
	_, _, err := get(t, p, nil, srv.URL+"/0")
	if !errors.Is(err, egress.ErrTooManyRedirects) {
		t.Fatalf("err %v, want ErrTooManyRedirects", err)
	}
}

func TestOwnSocketRefusedEvenWhenOpened(t *testing.T) {
	t.Parallel()
	self := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer self.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	selfAddr := netip.MustParseAddrPort(self.Listener.Addr().String())
	p := newPolicy(t, egress.Config{Allow: []string{"127.0.0.0/8", "::1", "localhost"}, Self: []netip.AddrPort{selfAddr}})
	for _, u := range []string{self.URL, fmt.Sprintf("http://localhost:%d", selfAddr.Port()), fmt.Sprintf("http://0.0.0.0:%d", selfAddr.Port())} {
		_, refused, err := get(t, p, nil, u+"/metrics")
		if refused == nil || !strings.Contains(refused.Error(), "Steward's own") {
			t.Errorf("GET %s: refused %v, err %v; want Steward's own socket refused", u, refused, err)
		}
	}
	if resp, refused, err := get(t, p, nil, other.URL); err != nil || refused != nil || resp.StatusCode != 200 {
		t.Errorf("another loopback server: %v %v", refused, err)
	}

	// Listening on every address: any local address on that port is Steward.
	any := newPolicy(t, egress.Config{Allow: []string{"127.0.0.0/8"}, Self: []netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), selfAddr.Port())}})
	if err := any.Check("", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.9"), selfAddr.Port()), nil); err == nil {
		t.Error("127.0.0.9 on a wildcard listener's port was allowed")
	}
}

func TestTenantRulesNarrow(t *testing.T) {
	t.Parallel()
	allowed := listenOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	refusedSrv := listenOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	p := newPolicy(t, egress.Config{Allow: []string{"127.0.0.0/8"}})
	rules := egress.TenantRules([]*steward.EgressRule{
		{ID: 1, IP: "127.0.0.1", AllowedActionTypes: []string{steward.EgressHTTPRequest}},
		{ID: 2, IP: "127.0.0.2", AllowedActionTypes: []string{steward.EgressSendEmail}}, // not for HTTP
		{ID: 3, FQDN: "api.example.com", AllowedActionTypes: []string{steward.EgressHTTPRequest}},
	}, steward.EgressHTTPRequest)
	if resp, refused, err := get(t, p, rules, allowed.URL); err != nil || refused != nil || resp.StatusCode != 200 {
		t.Errorf("allowed address: %v %v", refused, err)
	}
	_, refused, err := get(t, p, rules, refusedSrv.URL)
	if refused == nil || !refused.Tenant || !strings.Contains(refused.Error(), "2 action egress control rules for http-request") {
		t.Errorf("unlisted address: refused %v, err %v", refused, err)
	}
	// An fqdn rule matches the host name; the instance still refuses
	// what it refuses.
	p2 := newPolicy(t, egress.Config{Lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
	}})
	if err := p2.Check("api.example.com", netip.MustParseAddrPort("10.0.0.1:443"), rules); err == nil || strings.Contains(err.Error(), "tenant") {
		t.Errorf("a tenant rule opened a refused range: %v", err)
	}
	if err := p2.Check("api.example.com", netip.MustParseAddrPort("93.184.216.34:443"), rules); err != nil {
		t.Errorf("fqdn rule: %v", err)
	}
	if err := p2.Check("other.example.com", netip.MustParseAddrPort("93.184.216.34:443"), rules); err == nil {
		t.Error("a host no rule names was allowed")
	}
	if egress.TenantRules(nil, steward.EgressHTTPRequest) != nil {
		t.Error("no rules should mean no restriction")
	}
}
