package tables

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestPebbleLoggerRoutesToSlog(t *testing.T) {
	cases := []struct {
		name      string
		level     slog.Level // handler level
		log       func(pebbleLogger)
		want      string
		wantPanic bool
	}{
		{"info is debug", slog.LevelDebug, func(l pebbleLogger) { l.Infof("flushed %d", 3) }, `level=DEBUG msg="pebble: flushed 3"`, false},
		{"info hidden at info level", slog.LevelInfo, func(l pebbleLogger) { l.Infof("flushed %d", 3) }, ``, false},
		{"error", slog.LevelInfo, func(l pebbleLogger) { l.Errorf("disk %s", "full") }, `level=ERROR msg="pebble: disk full"`, false},
		{"fatal logs and panics", slog.LevelInfo, func(l pebbleLogger) { l.Fatalf("corrupt %s", "sst") }, `level=ERROR msg="pebble: corrupt sst"`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := pebbleLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
				Level: tc.level,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			}))}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				tc.log(l)
				return false
			}()
			if got := strings.TrimSpace(buf.String()); got != tc.want || panicked != tc.wantPanic {
				t.Fatalf("logged %q, panicked %t; want %q, %t", got, panicked, tc.want, tc.wantPanic)
			}
		})
	}
}
