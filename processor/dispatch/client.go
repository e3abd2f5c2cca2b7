package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/journeys/journeys/processor/outbox"
)

const (
	// maxRedirects bounds the 307/308 redirects followed in one attempt.
	maxRedirects = 5
	// errorBodyLen is how much of an error response is kept in LastError,
	// and drainLen how much more is read so the connection can be reused.
	errorBodyLen = 256
	drainLen     = 64 << 10
)

// Fast retries inside one attempt: connection-level failures (the
// connection refused, reset or closed before any response) often pass within
// milliseconds (a receiver restarting, a pooled connection the receiver had
// just closed), so they are retried at once, at most inAttemptRetries times with
// a short jittered wait, within the attempt's timeout. This is
// retryablehttp's job here. Everything else (any HTTP response, timeouts,
// refused or invalid targets) ends the attempt and is left to the durable
// schedule, whose retries survive a crash and do not hold a concurrency
// slot while they wait.
const (
	inAttemptRetries = 2
	fastRetryWaitMin = 50 * time.Millisecond
	fastRetryWaitMax = 500 * time.Millisecond
)

// newClient returns the HTTP client of the dispatcher.
//
// Each attempt is one retryablehttp request: the library retries
// connection-level failures within the attempt (fastRetry decides which)
// and rewinds the body for those retries and for followed 307/308
// redirects; PassthroughErrorHandler hands the last transport error back
// unchanged for classify. Backoff between attempts and Retry-After are
// applied by the scheduler (see backoff and retryAfter), because those
// retries must be durable and retryablehttp only honours Retry-After on
// 429 and 503 and its backoff has no full jitter.
func newClient(cfg Config, g guard) *retryablehttp.Client {
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Control: g.control}
	transport := &http.Transport{
		// No proxy: through one, the dialled address would be the
		// proxy's and the guard would not see the target.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          cfg.Concurrency,
		MaxIdleConnsPerHost:   cfg.PerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: keepIdle{transport}, CheckRedirect: checkRedirect},
		RetryMax:     inAttemptRetries,
		RetryWaitMin: fastRetryWaitMin,
		RetryWaitMax: fastRetryWaitMax,
		Backoff:      retryablehttp.LinearJitterBackoff,
		CheckRetry:   fastRetry,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
}

// fastRetry is the CheckRetry of the client: it retries, within the
// attempt, a request that got no response because the connection failed
// (refused, reset, closed early), and nothing else.
func fastRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if resp != nil || err == nil || ctx.Err() != nil {
		return false, nil
	}
	return connectionFailure(err), nil
}

// connectionFailure reports whether err is a failure of the connection
// itself rather than of the target (refused by the guard, invalid) or of
// the receiver's time (a timeout).
func connectionFailure(err error) bool {
	if errors.Is(err, errRefused) || errors.Is(err, errInvalidTarget) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		// net/http's unexported errServerClosedIdle: the receiver closed
		// the connection before the request was written.
		strings.Contains(err.Error(), "http: server closed idle connection")
}

// keepIdle hides the transport's CloseIdleConnections: retryablehttp calls
// it after every request that fails for good, which would drop the pooled
// connections to every healthy receiver whenever one receiver fails. The
// transport's IdleConnTimeout retires idle connections instead.
type keepIdle struct{ http.RoundTripper }

// checkRedirect follows only 307 and 308, which repeat the POST with its
// body. For 301, 302 and 303 net/http would switch to a bodiless GET whose
// 2xx would pass for a delivery, so those end the attempt with the 3xx
// response, a permanent failure.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if s := req.Response.StatusCode; s != http.StatusTemporaryRedirect && s != http.StatusPermanentRedirect {
		return http.ErrUseLastResponse
	}
	if err := checkURL(req.URL); err != nil {
		// A redirect to file:, ftp: or a bad port can never be followed:
		// dead-lettered now, not retried for the whole window.
		return fmt.Errorf("redirect: %w", err)
	}
	if len(via) > maxRedirects {
		// A redirect loop is a misconfigured target, not a passing fault.
		return fmt.Errorf("%w: more than %d redirects", errInvalidTarget, maxRedirects)
	}
	return nil
}

// answer is what one attempt got back.
type answer struct {
	status     int           // HTTP status, 0 when no response arrived
	retryAfter time.Duration // from the Retry-After header
	err        error         // why it failed; nil for 2xx
}

// post makes one attempt to deliver del. ts is the attempt's time: it is
// sent as webhook-timestamp and an HTTP-date Retry-After is measured from
// it.
func (d *Dispatcher) post(ctx context.Context, del *outbox.Delivery, ts time.Time) answer {
	u, err := url.Parse(del.URL)
	if err != nil {
		return answer{err: fmt.Errorf("%w: %w", errInvalidTarget, redactURLError(err))}
	}
	if err := checkURL(u); err != nil {
		return answer{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, del.URL, []byte(del.Body))
	if err != nil {
		return answer{err: fmt.Errorf("%w: %w", errInvalidTarget, redactURLError(err))}
	}
	unix := ts.Unix()
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "journeysd")
	h.Set("webhook-id", del.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(unix, 10))
	if d.signer != nil {
		h.Set("webhook-signature", d.signer.sign(del.ID, unix, del.Body))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no response within %s: %w", d.cfg.Timeout, err)
		}
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		a.retryAfter = retryAfter(resp.Header.Get("Retry-After"), ts)
		a.err = statusError(resp)
	}
	// Reading the rest lets the connection serve the next attempt; a
	// failure here does not change what the receiver answered.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLen))
	return a
}

// statusError describes a non-2xx response: its status line and the start
// of its body, which often says what the receiver objected to.
func statusError(resp *http.Response) error {
	buf := make([]byte, errorBodyLen)
	n, _ := io.ReadFull(resp.Body, buf)
	msg := "HTTP " + resp.Status
	if body := strings.TrimSpace(strings.ToValidUTF8(string(buf[:n]), "\uFFFD")); body != "" {
		msg += ": " + body
	}
	return errors.New(msg)
}
