package tables

import (
	"context"
	"fmt"
	"log/slog"
)

// pebbleLogger routes Pebble's printf-style messages to slog. Pebble's informational chatter
// (compactions, WAL recycling) goes to Debug so that a processor's log stays quiet by default.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l.Enabled(context.Background(), slog.LevelDebug) {
		p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble for corruption it cannot continue from; Pebble requires that it does
// not return, so it panics after logging (it never exits the process below main).
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic(msg)
}
