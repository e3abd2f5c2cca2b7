package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"golang.org/x/sync/errgroup"

	"github.com/journeys/journeys/httpapi"
	"github.com/journeys/journeys/httpapi/ui"
	"github.com/journeys/journeys/ops"
	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/dispatch"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/processor/statementlog"
	"github.com/journeys/journeys/state"
)

// serveConfig is everything `journeysd serve` is configured with.
type serveConfig struct {
	MongoURI      string
	MongoDB       string
	DataDir       string
	Listen        string
	MetricsListen string
	AdminKey      string
	AdminSecret   string
	AdminOrg      string

	CallbackTimeout      time.Duration
	CallbackRetryWindow  time.Duration
	CallbackConcurrency  int
	CallbackSigningKey   string
	CallbackAllowPrivate bool
	CallbackAllow        string

	NoIndexBuild   bool
	BatchSize      int
	ProgressCache  int
	ScanChunk      int
	ScanRate       int
	HandoverChunk  int
	ShutdownBudget time.Duration
	LogLevel       string
	LogFormat      string

	Limits limitFlags

	// observeDurable, when set (benchmarks in this package), also
	// receives the deliveries of each commit once it is durable: the
	// moment a statement's progress is.
	observeDurable func([]outbox.Delivery)
}

// defaultProgressCache is --progress-cache-bytes's default, 32 MiB: the
// engine's cache of committed progress records keeps the 95,000 to 190,000
// most recently active learners of a two-waypoint journey in it (see
// processor/cache.go).
const defaultProgressCache = 32 << 20

func (c *serveConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.MongoURI, "mongo-uri", "", "MongoDB URI of the LRS database (a replica set); empty runs on the embedded statement log in --data-dir")
	fs.StringVar(&c.MongoDB, "mongo-db", "learninglocker_v2", "LRS database name")
	fs.StringVar(&c.DataDir, "data-dir", "data", "directory for the state store (and the embedded statement log)")
	fs.StringVar(&c.Listen, "listen", defaultListen, "address of the HTTP API")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "separate address for /metrics (empty: served on --listen)")
	fs.StringVar(&c.AdminKey, "admin-key", "", "static admin API key (empty: generated once and kept in --data-dir)")
	fs.StringVar(&c.AdminSecret, "admin-secret", "", "static admin API secret")
	fs.StringVar(&c.AdminOrg, "admin-organisation", "", "organisation id (24 hex) the admin credential acts for (empty: generated once)")
	fs.DurationVar(&c.CallbackTimeout, "callback-timeout", 10*time.Second, "timeout of one callback attempt")
	fs.DurationVar(&c.CallbackRetryWindow, "callback-retry-window", 24*time.Hour, "how long a callback is retried before it is dead-lettered")
	fs.IntVar(&c.CallbackConcurrency, "callback-concurrency", 16, "callback attempts in flight at most")
	fs.StringVar(&c.CallbackSigningKey, "callback-signing-secret", "", "Standard Webhooks signing secret (whsec_<base64>); empty sends no signature")
	fs.BoolVar(&c.CallbackAllowPrivate, "callback-allow-private", false, "allow callbacks to loopback, private and link-local addresses")
	fs.StringVar(&c.CallbackAllow, "callback-allow", "", "comma-separated CIDR prefixes allowed as callback targets even if private")
	fs.BoolVar(&c.NoIndexBuild, "no-index-build", false, "never build the statements index on MongoDB: wait (not ready) until an operator has built it out of band")
	fs.IntVar(&c.BatchSize, "batch-size", 1000, "statements applied per commit at most")
	fs.IntVar(&c.ProgressCache, "progress-cache-bytes", defaultProgressCache, "bytes of committed progress records kept in memory across commits, so active learners are not read from Pebble again (0: none)")
	fs.IntVar(&c.ScanChunk, "recalc-scan-chunk", lrs.DefaultScanChunk, "statements a recalculation reads from MongoDB per query")
	fs.IntVar(&c.ScanRate, "recalc-scan-rate", 0, "statements per second a recalculation scan reads at most, to spare the LRS (0: no limit)")
	fs.IntVar(&c.HandoverChunk, "recalc-handover-chunk", 1000, "held-back live statements a recalculation applies per commit when it hands over")
	fs.DurationVar(&c.ShutdownBudget, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "auto", "log format: text, json, or auto (text on a terminal)")
	c.Limits.register(fs)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	d, err := startDaemon(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "journeysd serving on http://%s (admin key %s)\n", d.Addr(), d.admin.Key)
	return d.Wait()
}

// daemon is a running journeysd: state store, LRS, pipeline, dispatcher
// and HTTP servers.
type daemon struct {
	log        *slog.Logger
	cfg        serveConfig
	store      *state.Store
	lrs        *lrs.LRS          // the MongoDB LRS; nil on the embedded log
	statements *statementlog.Log // the embedded LRS; nil on MongoDB
	pipeline   *processor.Pipeline
	disp       *dispatch.Dispatcher
	metrics    *ops.Metrics
	metSrv     *http.Server
	admin      adminCredential
	ln         net.Listener
	srv        *http.Server

	limitStats journey.LimitStats

	cancel context.CancelFunc
	// group runs the parts; the first to fail cancels the others.
	group *errgroup.Group
	err   error // why the daemon stopped, if not asked to; set before done
	done  chan struct{}
}

// startDaemon opens everything and starts serving. Wait blocks until ctx is
// cancelled (or a part fails) and the daemon has shut down.
func startDaemon(ctx context.Context, cfg serveConfig, log *slog.Logger) (*daemon, error) {
	if cfg.ProgressCache < 0 {
		return nil, fmt.Errorf("--progress-cache-bytes: want 0 (no cache) or more, got %d", cfg.ProgressCache)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	d := &daemon{log: log, cfg: cfg, done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	var err error
	if d.store, err = state.Open(filepath.Join(cfg.DataDir, "state"), state.Options{Logger: log.With("component", "pebble")}); err != nil {
		if errors.Is(err, state.ErrLocked) {
			return nil, fmt.Errorf("another journeysd is running on %s: stop it, or give this one its own --data-dir (%w)", cfg.DataDir, err)
		}
		return nil, err
	}
	if err := d.openLRS(ctx); err != nil {
		return nil, err
	}
	if d.admin, err = loadAdmin(cfg); err != nil {
		return nil, err
	}
	allow, err := parsePrefixes(cfg.CallbackAllow)
	if err != nil {
		return nil, err
	}
	pc := d.pipelineConfig()
	d.mongoStreamOptions(&pc)
	if d.pipeline, err = processor.NewPipeline(pc); err != nil {
		return nil, err
	}
	if d.disp, err = dispatch.New(dispatch.Config{
		Store:         d.store,
		Timeout:       cfg.CallbackTimeout,
		RetryWindow:   cfg.CallbackRetryWindow,
		Concurrency:   cfg.CallbackConcurrency,
		SigningSecret: cfg.CallbackSigningKey,
		AllowPrivate:  cfg.CallbackAllowPrivate,
		Allow:         allow,
		// Half the shutdown budget for in-flight callbacks; the rest is for
		// the HTTP servers and the pipeline's last commit.
		Drain:  cfg.ShutdownBudget / 2,
		Logger: log.With("component", "dispatch"),
	}); err != nil {
		return nil, err
	}
	d.metrics = ops.NewMetrics(ops.Sources{
		Engine:     d.pipeline.Engine().Stats(),
		Pipeline:   d.pipeline.Stats(),
		Ready:      d.pipeline.Ready,
		Stream:     d.pipeline.StreamStats,
		Dispatcher: d.disp,
		Pebble:     d.store.Metrics,
		Limits:     &d.limitStats,
	})
	api, err := httpapi.New(d.apiConfig())
	if err != nil {
		return nil, err
	}
	if d.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle(ui.Prefix, ui.Handler())
	mux.Handle("/", api)
	d.srv = newHTTPServer(mux)

	var metLn net.Listener
	if cfg.MetricsListen != "" {
		if metLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			d.ln.Close()
			return nil, fmt.Errorf("listen on %s: %w", cfg.MetricsListen, err)
		}
		mm := http.NewServeMux()
		mm.Handle("/metrics", d.metrics.Handler())
		d.metSrv = newHTTPServer(mm)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	d.group, runCtx = errgroup.WithContext(runCtx)
	d.goRun("pipeline", func() error { return d.runPipeline(runCtx) })
	d.goRun("dispatcher", func() error { return d.disp.Run(runCtx) })
	activity := newActivityLog(d.log, d.pipeline.Engine().Stats())
	d.goRun("activity", func() error {
		activity.run(runCtx, activityEvery)
		return nil
	})
	d.goRun("http", func() error {
		if err := d.srv.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	if d.metSrv != nil {
		d.goRun("metrics", func() error {
			if err := d.metSrv.Serve(metLn); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-runCtx.Done():
		}
		d.shutdown()
	}()
	ok = true
	return d, nil
}

func (d *daemon) apiConfig() httpapi.Config {
	c := httpapi.Config{
		Store: d.store,
		Admin: httpapi.Admin{
			Key: d.admin.Key, Secret: d.admin.Secret,
			Organisation: d.admin.Organisation, Store: d.admin.Store,
		},
		Ready:      d.ready,
		Metrics:    d.metrics.Handler(),
		Deliveries: d.disp,
		Logger:     d.log.With("component", "http"),

		Limits:           d.cfg.Limits.journeyLimits(),
		LimitStats:       &d.limitStats,
		ProgressAttempts: d.cfg.Limits.ProgressAttempts,
		CheckCallback:    d.disp.CheckTarget,
	}
	if d.cfg.MetricsListen != "" {
		c.Metrics = nil // served on its own listener
	}
	if d.statements != nil {
		c.JourneyStore = d.statements
		c.Statements = d.statements
		c.Ingest = func(ctx context.Context, p httpapi.Principal, body []byte) ([]string, error) {
			return d.statements.Ingest(ctx, p.Organisation, p.Store, body)
		}
		c.Statement = func(ctx context.Context, p httpapi.Principal, id string) (bson.Raw, bool, error) {
			return d.statements.Statement(ctx, p.Store, id)
		}
	} else {
		c.DB = d.lrs.DB
		c.Journeys, c.Clients = d.lrs.Config.Journeys, d.lrs.Config.Clients
		c.Statements = d.lrs
	}
	return c
}

func (d *daemon) ready(ctx context.Context) error {
	if err := d.store.Healthy(); err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	if err := d.pingLRS(ctx); err != nil {
		return fmt.Errorf("LRS database: %w", err)
	}
	if d.lrs != nil {
		if err := d.lrs.IndexesReady(); err != nil {
			return err // its text up to the first colon says what is awaited
		}
	}
	return d.pipeline.Ready()
}

// Addr returns the API's listening address.
func (d *daemon) Addr() string { return d.ln.Addr().String() }

// goRun runs the part name in the daemon's group: its failure is logged
// and stops the daemon, with the first failure as Wait's error.
func (d *daemon) goRun(name string, f func() error) {
	d.group.Go(func() error {
		if err := f(); err != nil {
			d.log.Error("stopped on error", "component", name, "err", err)
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

// shutdown stops intake first (the HTTP server), then the pipeline (which
// commits what it applied) and the dispatcher (which drains in-flight
// callbacks within its bound), then closes the stores.
func (d *daemon) shutdown() {
	defer close(d.done)
	d.log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.ShutdownBudget/2)
	defer cancel()
	if err := d.srv.Shutdown(ctx); err != nil {
		d.log.Warn("http shutdown", "err", err)
	}
	if d.metSrv != nil {
		if err := d.metSrv.Shutdown(ctx); err != nil {
			d.log.Warn("metrics shutdown", "err", err)
		}
	}
	d.cancel()
	d.err = d.group.Wait()
	d.close()
	d.log.Info("stopped")
}

func (d *daemon) close() {
	if d.lrs != nil {
		if err := d.lrs.Close(context.Background()); err != nil {
			d.log.Warn("close LRS", "err", err)
		}
	}
	if d.statements != nil {
		if err := d.statements.Close(); err != nil {
			d.log.Warn("close statement log", "err", err)
		}
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			d.log.Warn("close state store", "err", err)
		}
	}
}

// Wait blocks until the daemon stopped and returns why, if not asked to.
func (d *daemon) Wait() error {
	<-d.done
	return d.err
}

// newHTTPServer bounds how long a client may take, so that slow or idle
// connections neither pile up nor hold a graceful shutdown.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("--callback-allow: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}
