package dispatch

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// verdict is what an attempt means for its delivery. Its String is the
// result label of journeys_callback_deliveries_total.
type verdict int

const (
	delivered verdict = iota // 2xx: done
	retry                    // transient failure: try again later
	dead                     // permanent failure or expired window
	refused                  // target address not allowed; dead-lettered
)

// String returns the metric label of v.
func (v verdict) String() string {
	switch v {
	case delivered:
		return "delivered"
	case retry:
		return "retry"
	case dead:
		return "dead"
	default:
		return "refused"
	}
}

// errInvalidTarget reports a callback URL that cannot be requested at all.
// Retrying would not help, so the delivery is dead-lettered.
var errInvalidTarget = errors.New("invalid callback URL")

// classify returns the verdict of an attempt that got the HTTP status, or
// failed with err before any response arrived (status 0).
func classify(status int, err error) verdict {
	if status == 0 {
		switch {
		case errors.Is(err, errRefused):
			return refused
		case errors.Is(err, errInvalidTarget):
			return dead
		default:
			// Timeouts, refused or reset connections, DNS failures, TLS
			// failures: all may be over by the next attempt.
			return retry
		}
	}
	switch {
	case status >= 200 && status < 300:
		return delivered
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return retry
	default:
		// Other 4xx say the request itself is wrong; 1xx and 3xx (other
		// than the followed 307/308) are not an answer to a webhook.
		return dead
	}
}

// backoff returns the delay before the attempt that follows tries failed
// ones: uniform in [min, min(max, min·2^tries)]. Full jitter spreads the
// retries of many deliveries that failed together (a receiver outage) over
// the whole interval instead of sending them back in waves; the floor keeps
// a receiver that just failed from being called again at once. A longer
// retryAfter from the receiver wins.
func backoff(minDelay, maxDelay time.Duration, tries int, retryAfter time.Duration) time.Duration {
	ceil := minDelay
	for i := 0; i < tries && ceil < maxDelay; i++ {
		ceil *= 2
	}
	ceil = min(ceil, maxDelay)
	d := minDelay + rand.N(ceil-minDelay+1)
	return max(d, retryAfter)
}

// retryAfter parses a Retry-After header value, delay-seconds or an
// HTTP-date, into a delay from now. It returns 0 for an absent, malformed
// or past value.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		// Clamp before multiplying so a huge value cannot overflow into a
		// negative duration.
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), maxRetryAfter)
}

// maxRetryAfter caps Retry-After so that the arithmetic on it stays far
// from overflowing; the retry window cuts any real delay shorter anyway.
const maxRetryAfter = 365 * 24 * time.Hour
