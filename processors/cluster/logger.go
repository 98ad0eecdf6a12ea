package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// gokaLogger adapts slog to goka's Logger interface. goka logs per-partition state changes at a
// rate that helps when debugging and is noise otherwise, so they go to Debug; lines that report
// errors go to Warn.
type gokaLogger struct{ l *slog.Logger }

func newGokaLogger(l *slog.Logger, component string) *gokaLogger {
	return &gokaLogger{l: l.With("component", component)}
}

func (g *gokaLogger) Print(v ...interface{})            { g.log(fmt.Sprint(v...)) }
func (g *gokaLogger) Println(v ...interface{})          { g.log(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }
func (g *gokaLogger) Printf(f string, v ...interface{}) { g.log(fmt.Sprintf(f, v...)) }

func (g *gokaLogger) log(msg string) {
	msg = RedactKeys(msg)
	level := slog.LevelDebug
	lower := strings.ToLower(msg)
	if strings.Contains(lower, "error") || strings.Contains(lower, "fail") {
		level = slog.LevelWarn
	}
	g.l.Log(context.Background(), level, msg)
}
