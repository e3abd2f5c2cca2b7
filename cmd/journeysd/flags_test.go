package main

import (
	"bytes"
	"flag"
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
