package dispatch

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestGuardAddresses(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.1.2.3", "::1", // loopback
		"10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", // private
		"fc00::1", "fd12:3456::1", // unique-local
		"169.254.169.254", "fe80::1", "fe80::1%eth0", // link-local, cloud metadata included
		"0.0.0.0", "::", "0.1.2.3", // unspecified, "this network"
		"100.64.0.1", "100.127.255.254", // shared (CGNAT)
		"224.0.0.1", "ff02::1", "255.255.255.255", // multicast, broadcast
		"::ffff:127.0.0.1", "::ffff:10.1.1.1", // IPv4-mapped
	}
	allowed := []string{"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "11.0.0.1"}
	g := guard{}
	for _, s := range refused {
		if err := g.check(netip.MustParseAddr(s)); !errors.Is(err, errRefused) {
			t.Errorf("%s: %v, want refused", s, err)
		}
	}
	for _, s := range allowed {
		if err := g.check(netip.MustParseAddr(s)); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}

	g = guard{allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("::1/128")}}
	for s, ok := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "::1": true, "10.2.0.1": false, "127.0.0.1": false} {
		if err := g.check(netip.MustParseAddr(s)); (err == nil) != ok {
			t.Errorf("with allowlist, %s: %v", s, err)
		}
	}
	g = guard{allowPrivate: true}
	for _, s := range refused {
		if err := g.check(netip.MustParseAddr(s)); err != nil {
			t.Errorf("allow-private, %s: %v", s, err)
		}
	}
}

func TestRefusesPrivateTargetsByDefault(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, status(http.StatusOK))
	byIP := newDelivery(rcv.URL, 300)
	// A host name is checked after resolution.
	byName := newDelivery(strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1), 300)
	enqueueStored(t, st, byIP, byName)
	d, reg := start(t, st, Config{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})

	waitFor(t, 5*time.Second, "both refused", func() bool { return d.Pending() == 0 && len(records(t, st, true)) == 2 })
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("a loopback receiver got %d requests by default", n)
	}
	for _, del := range records(t, st, true) {
		if del.Tries != 1 || !strings.Contains(del.LastError, "loopback") {
			t.Errorf("%s: tries %d, error %q; want one refused attempt naming loopback", del.URL, del.Tries, del.LastError)
		}
	}
	if got := metric(t, reg, "journeys_callback_deliveries_total", "refused"); got != 2 {
		t.Errorf("deliveries_total{result=refused} = %v, want 2", got)
	}

	// With allow-private the same target is reached.
	st2 := openStore(t)
	enqueueStored(t, st2, byIP)
	d2, _ := start(t, st2, Config{AllowPrivate: true})
	waitFor(t, 5*time.Second, "delivery with allow-private", func() bool { return d2.Pending() == 0 && len(rcv.requests()) == 1 })
}

// listen returns a listener on a loopback address other than 127.0.0.1,
// skipping the test where the system does not route all of 127/8.
func listen(t *testing.T, ip string) net.Listener {
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	return l
}

func TestRedirects(t *testing.T) {
	// The target redirected to listens on 127.0.0.2, outside the allowlist.
	target := &receiver{respond: status(http.StatusOK)}
	target.Server = httptest.NewUnstartedServer(target)
	target.Listener.Close()
	target.Listener = listen(t, "127.0.0.2")
	target.Start()
	defer target.Close()

	for _, c := range []struct {
		name   string
		code   int
		allow  string
		result string // dead letter error fragment, "" for delivered
	}{
		{"307 to a refused address", http.StatusTemporaryRedirect, "127.0.0.1/32", "127.0.0.2 is a loopback address"},
		{"308 to an allowed address", http.StatusPermanentRedirect, "127.0.0.0/8", ""},
		{"302 is not followed", http.StatusFound, "127.0.0.0/8", "HTTP 302"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(target.requests())
			st := openStore(t)
			rcv := newReceiver(t, func(_ int, _ *http.Request, w http.ResponseWriter) {
				w.Header().Set("Location", target.URL+"/moved")
				w.WriteHeader(c.code)
			})
			del := newDelivery(rcv.URL, 300)
			enqueueStored(t, st, del)
			cfg := fastRetries()
			cfg.Allow = []netip.Prefix{netip.MustParsePrefix(c.allow)}
			d, _ := start(t, st, cfg)
			waitFor(t, 5*time.Second, "the outcome", func() bool { return len(rcv.requests()) == 1 && d.Pending() == 0 })

			dead := records(t, st, true)[del.ID]
			targetGot := target.requests()[before:]
			if c.result == "" {
				if dead != nil || len(targetGot) != 1 {
					t.Fatalf("not delivered through the redirect: dead %+v, target got %d", dead, len(targetGot))
				}
				got := targetGot[0]
				if got.method != http.MethodPost || string(got.body) != string(del.Body) || got.header.Get("webhook-id") != del.ID {
					t.Errorf("redirected request: %s with %d body bytes, webhook-id %q", got.method, len(got.body), got.header.Get("webhook-id"))
				}
				return
			}
			if len(targetGot) != 0 {
				t.Errorf("redirect target reached: %d requests", len(targetGot))
			}
			if dead == nil || !strings.Contains(dead.LastError, c.result) {
				t.Errorf("dead letter %+v, want error containing %q", dead, c.result)
			}
		})
	}
}
