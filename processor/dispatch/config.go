package dispatch

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/journeys/journeys/state"
)

// Defaults of the Config fields left zero.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultRetryWindow = 24 * time.Hour
	DefaultConcurrency = 16
	DefaultPerHost     = 4
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 10 * time.Minute
	DefaultDrain       = 5 * time.Second
	// DefaultMaxScheduled bounds the in-memory schedule: about 200 bytes
	// per delivery, some 20 MB in all.
	DefaultMaxScheduled = 100_000
)

// Config configures a Dispatcher. Zero durations and counts select the
// defaults above.
type Config struct {
	// Store holds the outbox and the dead letters. Required.
	Store *state.Store
	// Timeout bounds one attempt: connecting, sending the request and
	// reading the response.
	Timeout time.Duration
	// RetryWindow is how long after Delivery.CreatedAt a failing delivery
	// keeps being retried before it is dead-lettered.
	RetryWindow time.Duration
	// Concurrency bounds the attempts in flight overall, and PerHost those
	// in flight to one host (the URL's host and port), so that one slow
	// receiver cannot take every slot.
	Concurrency int
	PerHost     int
	// MinBackoff and MaxBackoff bound the delay before a retry; see the
	// package documentation.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxScheduled bounds the deliveries held in the in-memory schedule;
	// more stay in the store until the schedule drains (see refill).
	MaxScheduled int
	// Drain bounds how long Run waits for in-flight attempts once its
	// context is cancelled.
	Drain time.Duration
	// SigningSecret is the Standard Webhooks secret, "whsec_" followed by
	// the base64 key. Empty sends no webhook-signature header.
	SigningSecret string
	// AllowPrivate lets callbacks reach every address, private ones
	// included. Allow lets them reach the addresses inside its prefixes
	// only; IPv4 targets are matched against IPv4 prefixes.
	AllowPrivate bool
	Allow        []netip.Prefix
	// Logger receives delivery outcomes: dead letters at error, failed
	// attempts that will be retried at warn (rate-limited per target),
	// deliveries at debug. URLs are redacted. Nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. It dates attempts,
	// schedules retries and measures the retry window.
	Now func() time.Time
}

// withDefaults validates c and returns it with its zero fields defaulted.
func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, errors.New("dispatch: config: no store")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"timeout", &c.Timeout, DefaultTimeout},
		{"retry window", &c.RetryWindow, DefaultRetryWindow},
		{"min backoff", &c.MinBackoff, DefaultMinBackoff},
		{"max backoff", &c.MaxBackoff, DefaultMaxBackoff},
		{"drain", &c.Drain, DefaultDrain},
	} {
		if *d.v < 0 {
			return c, fmt.Errorf("dispatch: config: negative %s %s", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.MinBackoff > c.MaxBackoff {
		return c, fmt.Errorf("dispatch: config: min backoff %s exceeds max backoff %s", c.MinBackoff, c.MaxBackoff)
	}
	for _, n := range []struct {
		name string
		v    *int
		def  int
	}{
		{"concurrency", &c.Concurrency, DefaultConcurrency},
		{"per-host concurrency", &c.PerHost, DefaultPerHost},
		{"max scheduled", &c.MaxScheduled, DefaultMaxScheduled},
	} {
		if *n.v < 0 {
			return c, fmt.Errorf("dispatch: config: negative %s %d", n.name, *n.v)
		}
		if *n.v == 0 {
			*n.v = n.def
		}
	}
	for _, p := range c.Allow {
		if !p.IsValid() {
			return c, fmt.Errorf("dispatch: config: invalid allowed prefix %q", p)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
