package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultListen is the address of the HTTP API when neither --listen nor
// JOURNEYS_LISTEN gives one.
const defaultListen = "127.0.0.1:8080"

// healthcheckConfig is what `journeysd healthcheck` is configured with.
type healthcheckConfig struct {
	// Listen is the daemon's --listen address; the probe connects to it,
	// through loopback when it is a wildcard address.
	Listen  string
	Path    string
	Timeout time.Duration
}

func parseHealthcheck(args []string, stderr io.Writer) (healthcheckConfig, error) {
	var c healthcheckConfig
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	// Named like serve's flag, so that the JOURNEYS_LISTEN a container
	// sets for the daemon also tells the probe where to go.
	fs.StringVar(&c.Listen, "listen", defaultListen, "address the daemon's HTTP API listens on, as given to serve")
	fs.StringVar(&c.Path, "path", "/healthz", "endpoint to probe: /healthz (the daemon serves) or /readyz (it also follows the change stream)")
	fs.DurationVar(&c.Timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	if err := parseFlags(fs, args, stderr); err != nil {
		return c, err
	}
	if !strings.HasPrefix(c.Path, "/") {
		return c, fmt.Errorf("--path %q: want an absolute path such as /healthz", c.Path)
	}
	return c, nil
}

// runHealthcheck probes a running daemon over HTTP and fails unless it
// answers 200, for container health checks in images without a shell or
// curl. A failed probe returns an unhealthyError, whose exit code is 1.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseHealthcheck(args, stderr)
	if err != nil {
		return err
	}
	u, err := probeURL(c.Listen, c.Path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	// No proxy: the environment's HTTP_PROXY must not intercept a probe of
	// the daemon next door.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return unhealthyError{err}
	}
	defer resp.Body.Close()
	// The body says why a daemon is not ready; the container runtime keeps
	// the probe's output for `docker inspect`.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return unhealthyError{fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))}
	}
	_, err = fmt.Fprintf(stdout, "healthy: GET %s: %s\n", u, resp.Status)
	return err
}

// probeURL returns the URL of path on the daemon listening on listen. A
// daemon listening on every interface is reached through loopback.
func probeURL(listen, path string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: path}).String(), nil
}

// unhealthyError is a failed probe. Its exit code is 1, the one container
// runtimes read as "unhealthy" (Docker reserves 2).
type unhealthyError struct{ err error }

func (e unhealthyError) Error() string { return "unhealthy: " + e.err.Error() }

func (e unhealthyError) Unwrap() error { return e.err }

// ExitCode returns the process exit status for the error.
func (e unhealthyError) ExitCode() int { return 1 }

// exitCode returns the exit status for an error returned by a command: the
// error's own ExitCode when it has one, otherwise 2.
func exitCode(err error) int {
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 2
}
