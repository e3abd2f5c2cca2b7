package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/journeys/journeys/internal/redact"
)

// resolveTimeout bounds the DNS lookup of CheckTarget: a save must not hang
// on a slow resolver.
const resolveTimeout = 2 * time.Second

// checkURL returns an error wrapping errInvalidTarget when u can never be
// requested: not http(s), no host, or a port outside 1-65535. Such a
// delivery is dead-lettered at its first attempt instead of being retried
// for the whole retry window.
func checkURL(u *url.URL) error {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %s is not an absolute http(s) URL", errInvalidTarget, redact.URL(u.String()))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %s of %s is not a TCP port (1-65535)", errInvalidTarget, p, redact.URL(u.String()))
		}
	}
	return nil
}

// CheckTarget reports whether a callback to rawURL could be delivered under
// the dispatcher's configuration, for refusing a journey when it is saved
// rather than dead-lettering its callbacks at the first completion. It
// returns an error wrapping ErrRefusedTarget when the URL is malformed or
// its host is, or resolves to, an address the configuration refuses. A
// host that does not resolve now is not refused: it may resolve by the
// time a completion is delivered. The check is repeated on the address
// dialled at delivery time, so a later change in DNS is caught there.
func (d *Dispatcher) CheckTarget(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRefusedTarget, redactURLError(err))
	}
	if err := checkURL(u); err != nil {
		return fmt.Errorf("%w: %w", ErrRefusedTarget, err)
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		defer cancel()
		if addrs, err = d.resolver.LookupNetIP(ctx, "ip", host); err != nil {
			return nil // not resolvable now; checked again when dialled
		}
	}
	for _, a := range addrs {
		if err := d.guard.check(a); err != nil {
			return fmt.Errorf("%w: %s resolves to %w", ErrRefusedTarget, host, err)
		}
	}
	return nil
}

// ErrRefusedTarget is wrapped by the errors of CheckTarget.
var ErrRefusedTarget = errors.New("callback target cannot be delivered to")

// redactURLError strips the URL (which may carry credentials) from a
// url.Parse error, keeping what is wrong with it.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redact.URL(ue.URL), ue.Err)
	}
	return err
}

// resolver looks host names up; *net.Resolver implements it.
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ resolver = (*net.Resolver)(nil)
