package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	netErr := errors.New("dial tcp: connection refused")
	for _, c := range []struct {
		status int
		err    error
		want   verdict
	}{
		{200, nil, delivered},
		{204, nil, delivered},
		{299, nil, delivered},
		{408, errors.New("HTTP 408"), retry},
		{429, errors.New("HTTP 429"), retry},
		{500, errors.New("HTTP 500"), retry},
		{501, errors.New("HTTP 501"), retry},
		{503, errors.New("HTTP 503"), retry},
		{599, errors.New("HTTP 599"), retry},
		{400, errors.New("HTTP 400"), dead},
		{401, errors.New("HTTP 401"), dead},
		{404, errors.New("HTTP 404"), dead},
		{410, errors.New("HTTP 410"), dead},
		{422, errors.New("HTTP 422"), dead},
		{302, errors.New("HTTP 302"), dead},
		{0, netErr, retry},
		{0, context.DeadlineExceeded, retry},
		{0, fmt.Errorf("post: %w", fmt.Errorf("%w: 10.0.0.1 is a private address", errRefused)), refused},
		{0, fmt.Errorf("%w: ftp://x", errInvalidTarget), dead},
	} {
		if got := classify(c.status, c.err); got != c.want {
			t.Errorf("classify(%d, %v) = %s, want %s", c.status, c.err, got, c.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	const minD, maxD = time.Second, 10 * time.Minute
	for tries, ceil := range map[int]time.Duration{
		0: time.Second, 1: 2 * time.Second, 3: 8 * time.Second, 9: 512 * time.Second, 10: maxD, 100: maxD,
	} {
		var lo, hi time.Duration = maxD, 0
		for range 2000 {
			d := backoff(minD, maxD, tries, 0)
			if d < minD || d > ceil {
				t.Fatalf("tries %d: delay %s outside [%s, %s]", tries, d, minD, ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter spreads over the whole interval, not a corner of it.
		if span := ceil - minD; span > 0 && (lo > minD+span/10 || hi < ceil-span/10) {
			t.Errorf("tries %d: 2000 delays only span [%s, %s] of [%s, %s]", tries, lo, hi, minD, ceil)
		}
	}
	if d := backoff(minD, maxD, 0, time.Hour); d != time.Hour {
		t.Errorf("a longer Retry-After is not honoured: %s", d)
	}
	if d := backoff(minD, maxD, 5, time.Millisecond); d < minD {
		t.Errorf("a shorter Retry-After undercuts the floor: %s", d)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                     0,
		"120":                  2 * time.Minute,
		" 7 ":                  7 * time.Second,
		"0":                    0,
		"-5":                   0,
		"soon":                 0,
		"99999999999999999999": 0, // not an int64: not a delay
		"9999999999999":        maxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat):     90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):           0,
		"Wednesday, 01-May-24 10:00:30 GMT":                   30 * time.Second, // RFC 850
		now.Add(45 * time.Second).Format(time.ANSIC):          45 * time.Second,
		now.Add(400 * 24 * time.Hour).Format(http.TimeFormat): maxRetryAfter,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	st := openStore(t)
	for name, cfg := range map[string]Config{
		"no store":          {},
		"negative timeout":  {Store: st, Timeout: -time.Second},
		"min above max":     {Store: st, MinBackoff: time.Hour, MaxBackoff: time.Minute},
		"negative per-host": {Store: st, PerHost: -1},
		"secret no prefix":  {Store: st, SigningSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		"secret not base64": {Store: st, SigningSecret: "whsec_!!!"},
		"secret too short":  {Store: st, SigningSecret: "whsec_c2hvcnQ="},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted the configuration", name)
		}
	}
	d, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	c := d.cfg
	if c.Timeout != DefaultTimeout || c.RetryWindow != DefaultRetryWindow || c.Concurrency != DefaultConcurrency ||
		c.PerHost != DefaultPerHost || c.MinBackoff != DefaultMinBackoff || c.MaxBackoff != DefaultMaxBackoff || c.Drain != DefaultDrain {
		t.Errorf("zero config not defaulted: %+v", c)
	}
	if d.signer != nil {
		t.Error("no secret configured, yet deliveries would be signed")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, time.Second, "Run to start", d.running.Load)
	if err := d.Run(ctx); err == nil {
		t.Error("a second Run was accepted")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
