package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/journeys/journeys/internal/redact"
)

// newLogger returns the daemon's logger: text or JSON on w at level. Every
// line is made readable and safe by the handler (see readable and
// redacting): durations print as "1.5s" rather than nanoseconds, times as
// RFC 3339 in UTC, and any URL in the message or a string or error value
// has its credentials redacted, whichever part of the daemon logged it.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: want debug, info, warn or error, got %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: readable}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "auto":
		if f, ok := w.(*os.File); ok && isTerminal(f) {
			h = slog.NewTextHandler(w, opts)
		} else {
			h = slog.NewJSONHandler(w, opts)
		}
	default:
		return nil, fmt.Errorf("--log-format: want text, json or auto, got %q", format)
	}
	return slog.New(redacting{h}), nil
}

// readable is the handlers' ReplaceAttr: durations as Go duration strings,
// times (the record's own included) as RFC 3339 in UTC with milliseconds,
// strings and errors with URLs redacted.
func readable(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value; v.Kind() {
	case slog.KindDuration:
		a.Value = slog.StringValue(v.Duration().String())
	case slog.KindTime:
		a.Value = slog.StringValue(v.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	case slog.KindString:
		a.Value = slog.StringValue(redact.Text(v.String()))
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			a.Value = slog.StringValue(redact.Text(err.Error()))
		}
	}
	return a
}

// redacting redacts URLs in the messages of the records it passes on
// (ReplaceAttr sees only the attributes).
type redacting struct{ slog.Handler }

// Handle implements slog.Handler.
func (h redacting) Handle(ctx context.Context, r slog.Record) error {
	if msg := redact.Text(r.Message); msg != r.Message {
		r2 := slog.NewRecord(r.Time, r.Level, msg, r.PC)
		r.Attrs(func(a slog.Attr) bool { r2.AddAttrs(a); return true })
		r = r2
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h redacting) WithAttrs(as []slog.Attr) slog.Handler {
	return redacting{h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h redacting) WithGroup(name string) slog.Handler {
	return redacting{h.Handler.WithGroup(name)}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
