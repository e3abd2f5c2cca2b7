package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoggerFormats(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log, err := newLogger(&buf, "info", format)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("X", 3600))
		log.With("target", "https://u:pw1@example.com/x?k=qs1").Info("posting to https://u:pw2@example.com/y",
			"took", 6*time.Millisecond, "next", at, "err", errors.New(`Post "https://u:pw3@example.com/z": EOF`))
		out := buf.String()
		for _, want := range []string{"6ms", "2026-03-04T04:06:07.890Z", "https://REDACTED@example.com/x?k=REDACTED", "posting to https://REDACTED@example.com/y", `https://REDACTED@example.com/z`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q missing from %s", format, want, out)
			}
		}
		for _, secret := range []string{"pw1", "pw2", "pw3", "qs1", "6000000"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: %q in %s", format, secret, out)
			}
		}
		if format == "json" {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if _, err := time.Parse(time.RFC3339, m["time"].(string)); err != nil || !strings.HasSuffix(m["time"].(string), "Z") {
				t.Errorf("time %v is not RFC 3339 UTC", m["time"])
			}
		}
	}
	if _, err := newLogger(&bytes.Buffer{}, "loud", "json"); err == nil || !strings.Contains(err.Error(), "debug, info, warn or error") {
		t.Errorf("bad level: %v", err)
	}
}
