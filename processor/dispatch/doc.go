// Package dispatch delivers the callbacks queued in the state store's outbox
// (docs/design.md §8): it POSTs each pending outbox.Delivery to its URL with Standard
// Webhooks headers, retries it with exponential backoff for a retry window,
// and dead-letters it when the receiver refuses it for good or the window
// runs out.
//
// # Durability
//
// The engine writes a delivery into the outbox in the same batch as the
// completion that caused it, so a delivery exists exactly when its
// completion does. From then on the dispatcher owns the record: the outcome
// of every attempt is committed (synced) before anything else happens to
// the delivery — deleted from the outbox when delivered, rewritten with its
// try count, last status, last error and next attempt time when it will be
// retried, moved to the dead letters when it will not. The in-memory
// schedule only ever follows what is durable, so a crash at any point loses
// nothing: after a restart Run reloads the outbox and resumes every
// delivery at its stored NextAttemptAt. A crash after the receiver answered
// but before the commit repeats the attempt; delivery is at least once, and
// the unchanged webhook-id lets receivers drop the duplicate.
//
// # Memory
//
// The schedule is a heap of small items (id, due time, host, creation time)
// and never holds a request body: the record is read from the store when
// its attempt starts. It holds at most Config.MaxScheduled deliveries
// (100,000 by default, about 200 bytes each); deliveries past that bound
// stay in the store only and are counted, and when the schedule has
// drained to half the bound a refill scans the outbox and schedules the
// earliest-due of them. So memory is bounded whatever the outbox holds,
// and at most Config.Concurrency bodies are in memory at once.
//
// # Attempts and retries
//
// Each attempt is one POST with a Config.Timeout deadline. 2xx is
// delivered. 408, 429, 5xx, timeouts and network errors are retried after
// a delay drawn uniformly between Config.MinBackoff and
// min(Config.MaxBackoff, MinBackoff·2^tries) (full jitter above a floor),
// or after the receiver's Retry-After when that is longer. Any other status
// and a URL that can never be requested (not http(s), no host, a port
// outside 1-65535, also as a redirect target) are permanent: the delivery
// is dead-lettered at its first attempt. A delivery whose
// retry window (Config.RetryWindow from Delivery.CreatedAt) has expired is
// dead-lettered after its next failure; the last retry is brought forward
// to the end of the window rather than scheduled past it. Replay moves a
// dead letter back to the outbox with a fresh window.
//
// Within one attempt, a connection that fails before any response arrives
// (refused, reset, closed: a receiver restarting, a pooled connection the
// receiver just closed) is retried at once, up to twice with a short
// jittered wait and within the attempt's timeout. That is the job of
// go-retryablehttp here; the durable schedule above keeps every other
// retry, because those must survive a crash and must not hold a
// concurrency slot while they wait.
//
// # Logs
//
// A delivery is logged at debug. A failed attempt that will be retried is
// logged at warn with its status, reason and next attempt time, at most
// once a minute per target (host and port): the attempts left out are
// counted in the next line's "suppressed". A dead letter is logged at
// error, always. Every URL and error is redacted (internal/redact) before it
// is logged or stored as LastError: callback URLs may carry credentials.
//
// # Redirects
//
// 307 and 308 redirects, which repeat the POST with its body, are followed
// (at most 5 per attempt). 301, 302 and 303 are not: net/http would turn
// the POST into a bodiless GET, so they end the attempt as a permanent
// failure, and so does a redirect loop.
//
// # Refused targets
//
// Unless Config.AllowPrivate is set, the dispatcher refuses to connect to
// loopback, private (RFC 1918), unique-local, link-local, unspecified,
// multicast, broadcast and shared (RFC 6598) addresses, except those inside
// a Config.Allow prefix. Dispatcher.CheckTarget applies the same check to
// a URL when its journey is saved, resolving the host, so that a refused
// target is a 400 naming --callback-allow-private rather than a dead
// letter at the first completion. The check runs again in the dialer on the address
// actually dialled, after DNS resolution, so a host name that resolves to
// such an address, DNS rebinding and redirects are all covered. A refused
// delivery is dead-lettered. Proxies from the environment are not used:
// through a proxy the dialled address would be the proxy's.
package dispatch
