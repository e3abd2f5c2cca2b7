package dispatch

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// errRefused reports a callback target whose address the configuration
// does not allow. Such a delivery is dead-lettered without retries: the
// address will not become acceptable until the configuration changes, and
// then the operator replays it.
var errRefused = errors.New("callback target refused")

// guard decides which addresses callbacks may connect to.
type guard struct {
	allowPrivate bool
	allow        []netip.Prefix
}

// control is a net.Dialer Control function. It runs after DNS resolution
// for every connection the HTTP client opens, the redirected ones included,
// with the address about to be dialled, so the check cannot be bypassed by
// a name that resolves differently the second time (DNS rebinding).
func (g guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable dialled address %q", errRefused, address)
	}
	return g.check(ap.Addr())
}

// check returns an error wrapping errRefused when a must not be connected
// to.
func (g guard) check(a netip.Addr) error {
	// An IPv4-mapped IPv6 address reaches the IPv4 host, so it is judged
	// (and matched against Allow) as that host.
	a = a.Unmap().WithZone("")
	for _, p := range g.allow {
		if p.Contains(a) {
			return nil
		}
	}
	if g.allowPrivate {
		return nil
	}
	if kind := restricted(a); kind != "" {
		return fmt.Errorf("%w: %s is a %s address (allowed only with --callback-allow-private or --callback-allow)", errRefused, a, kind)
	}
	return nil
}

// restricted names the kind of a non-public address a, or returns "" when
// a is a public unicast address.
func restricted(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		if a.Is6() {
			return "unique-local"
		}
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast():
		return "multicast"
	}
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 0:
			// 0.0.0.0/8 "this network": Linux routes it to the local host.
			return "unspecified"
		case b[0] == 100 && b[1]&0xc0 == 64:
			// 100.64.0.0/10, carrier-grade NAT: internal to a provider,
			// and where some clouds put their metadata services.
			return "shared"
		case b == [4]byte{255, 255, 255, 255}:
			return "broadcast"
		}
	}
	return ""
}
