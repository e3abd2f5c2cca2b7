// Package pebblelog routes the log lines and events of a Pebble database to
// slog, at the level an operator needs them: Pebble's routine messages (the
// WAL replayed on every restart, flushes, compactions) at debug, what
// affects the daemon (background errors, slow disks, write stalls) at warn
// or error, and a fatal error as an exit. The state store and the embedded
// statement log both open Pebble through it.
package pebblelog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/cockroachdb/pebble"
)

// logger routes Pebble's own log lines to slog.
type logger struct {
	l *slog.Logger
}

// Infof implements pebble.Logger. Pebble's informational lines are
// routine (the WAL replayed on every restart, table statistics), so they
// are logged at debug; what needs an operator comes through the event
// listener (background errors, slow disks, write stalls) or Fatalf.
func (p logger) Infof(format string, args ...any) {
	if !p.l.Enabled(context.Background(), slog.LevelDebug) {
		return // spare the formatting
	}
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf implements pebble.Logger. Pebble calls it on unrecoverable errors
// (a failed WAL write, a corrupt MANIFEST, a broken invariant) and relies on
// it not returning: the DB is unusable afterwards. Like pebble.DefaultLogger
// it exits the process rather than panicking, because a panic in a request
// goroutine would be recovered by net/http and leave the daemon running on
// a broken store. Everything committed is durable, so a supervisor restart
// recovers cleanly.
func (p logger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	p.l.Error(msg, slog.Bool("fatal", true), slog.String("stack", string(debug.Stack())))
	if !p.l.Enabled(context.Background(), slog.LevelError) {
		// A process must never die silently, even with logging discarded.
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(1)
}

// lazyString defers formatting of a Pebble event until a handler actually
// emits it; flush and compaction events are frequent and logged at debug.
type lazyString struct {
	fmt.Stringer
}

// LogValue implements slog.LogValuer.
func (s lazyString) LogValue() slog.Value {
	return slog.StringValue(s.String())
}

// Logger returns the pebble.Logger (Options.Logger) that writes to l.
func Logger(l *slog.Logger) pebble.Logger { return logger{l} }

// EventListener (Options.EventListener) maps Pebble's events to slog levels by how much an operator
// needs to know: errors and stalls affect the daemon, flushes and
// compactions are routine.
func EventListener(l *slog.Logger) *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			l.Error("pebble background error", slog.Any("err", err))
		},
		DiskSlow: func(info pebble.DiskSlowInfo) {
			l.Warn("pebble disk slow", slog.Any("info", lazyString{info}))
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			l.Warn("pebble write stall", slog.String("reason", info.Reason))
		},
		WriteStallEnd: func() {
			l.Info("pebble write stall ended")
		},
		FlushEnd: func(info pebble.FlushInfo) {
			l.Debug("pebble flush", slog.Any("info", lazyString{info}))
		},
		CompactionEnd: func(info pebble.CompactionInfo) {
			l.Debug("pebble compaction", slog.Any("info", lazyString{info}))
		},
	}
}
