package main

import (
	"bytes"
	"flag"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFlagErrorsNameTheFormat(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--callback-timeout", "10"}, nil, "use a duration such as 10s"},
		{[]string{"--callback-retry-window=1day"}, nil, `"1day" is not valid: use a duration such as 10s`},
		{[]string{"--callback-concurrency", "many"}, nil, "use a whole number such as 16"},
		{nil, map[string]string{"JOURNEYS_SHUTDOWN_TIMEOUT": "30"}, `JOURNEYS_SHUTDOWN_TIMEOUT: "30" is not valid: use a duration such as 10s`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var cfg serveConfig
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			cfg.register(fs)
			var stderr bytes.Buffer
			err := parseFlags(fs, tt.args, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v %v: error %v, want %q", tt.args, tt.env, err, tt.want)
			}
		})
	}
	// Valid values still parse, and booleans still work without a value.
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs)
	if err := parseFlags(fs, []string{"--callback-timeout", "1500ms", "--callback-allow-private", "--callback-concurrency", "3"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if cfg.CallbackTimeout != 1500*time.Millisecond || !cfg.CallbackAllowPrivate || cfg.CallbackConcurrency != 3 {
		t.Errorf("parsed %+v", cfg)
	}
}

// --progress-cache-bytes defaults to 32 MiB, is read from the environment,
// 0 turns the cache off (the engine's "none" is negative, its 0 the
// default), and a negative value stops the daemon at start saying so.
func TestProgressCacheFlag(t *testing.T) {
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs)
	if err := parseFlags(fs, nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if cfg.ProgressCache != 32<<20 || cacheBudget(cfg.ProgressCache) != 32<<20 {
		t.Errorf("default %d", cfg.ProgressCache)
	}
	t.Setenv("JOURNEYS_PROGRESS_CACHE_BYTES", "0")
	cfg = serveConfig{}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs)
	if err := parseFlags(fs, nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if cfg.ProgressCache != 0 || cacheBudget(cfg.ProgressCache) >= 0 {
		t.Errorf("0 gives %d, engine budget %d", cfg.ProgressCache, cacheBudget(cfg.ProgressCache))
	}
	_, err := startDaemon(t.Context(), serveConfig{DataDir: t.TempDir(), ProgressCache: -1}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "--progress-cache-bytes") {
		t.Errorf("negative: %v", err)
	}
}
