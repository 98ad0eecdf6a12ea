package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/shopease/shopease/testenv"
)

// Kafka topic names allow [a-zA-Z0-9._-] and at most 249 characters; goka appends "-table".
var legalTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func TestNamespaceUniqueAndLegal(t *testing.T) {
	tests := []struct{ name string }{
		{"plain"},
		{"with spaces/slashes_and.dots"},
		{strings.Repeat("long-", 40)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := testenv.Namespace(t), testenv.Namespace(t)
			if a == b {
				t.Fatalf("two namespaces of one test are equal: %q", a)
			}
			for _, ns := range []string{string(a), string(b)} {
				if !strings.HasPrefix(ns, "t.") || !strings.HasSuffix(ns, ".") {
					t.Errorf("namespace %q: want t.<name>.<random>.", ns)
				}
				table := ns + "shopease.sessions-table"
				if !legalTopic.MatchString(table) || len(table) > 120 {
					t.Errorf("topic %q (%d chars) is not a short legal Kafka name", table, len(table))
				}
			}
		})
	}
}

func TestStartEmbeddedOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    []testenv.Option
		wantErr error
	}{
		{"defaults", nil, nil},
		{"port too large", []testenv.Option{testenv.WithKafkaPort(70000)}, testenv.ErrBadPort},
		{"negative redis port", []testenv.Option{testenv.WithRedisPort(-1)}, testenv.ErrBadPort},
		{"zero partitions", []testenv.Option{testenv.WithDefaultPartitions(0)}, testenv.ErrBadOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := testenv.StartEmbedded(context.Background(), tc.opts...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("StartEmbedded: err %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			defer e.Close()
			for _, addr := range append(e.Brokers(), e.RedisAddr()) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil || host != "127.0.0.1" {
					t.Errorf("address %q: want 127.0.0.1:port (%v)", addr, err)
				}
			}
			if n := len(e.Brokers()); n != 1 {
				t.Errorf("%d brokers, want 1", n)
			}
		})
	}
}

// recorder is a testing.TB whose Fatal and Skip end the calling goroutine and record the message,
// so that the failing paths of RealKafka can be tested without failing this test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Fatalf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...); runtime.Goexit() }
func (r *recorder) Fatal(a ...any)            { r.fatal = fmt.Sprint(a...); runtime.Goexit() }
func (r *recorder) Skip(a ...any)             { r.skip = fmt.Sprint(a...); runtime.Goexit() }

// TestRealKafkaResolution pins how a real broker is found: never replaced by an embedded one, a
// missing one skips only when real servers are not required, and a dead one fails with its address.
func TestRealKafkaResolution(t *testing.T) {
	live, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	_ = closed.Close()

	tests := []struct {
		name, addr, require string
		wantAddr            string
		wantFatal, wantSkip string // substrings; "" = must not happen
	}{
		{"unset skips", "", "", "", "", "run `make test`"},
		{"unset fails when required", "", "1", "", "SHOPEASE_REQUIRE_REAL=1 forbids skipping", ""},
		{"dead server fails", deadAddr, "", "", "does not answer", ""},
		{"live server", live.Addr().String(), "1", live.Addr().String(), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(testenv.EnvKafka, tc.addr)
			t.Setenv(testenv.EnvRequireReal, tc.require)
			rec := &recorder{TB: t}
			var got []string
			done := make(chan struct{})
			go func() {
				defer close(done)
				got = testenv.RealKafka(rec).Brokers()
			}()
			<-done
			if !contains(rec.fatal, tc.wantFatal) || !contains(rec.skip, tc.wantSkip) {
				t.Errorf("fatal %q, skip %q; want fatal ~%q, skip ~%q", rec.fatal, rec.skip, tc.wantFatal, tc.wantSkip)
			}
			if tc.wantAddr != "" && (len(got) != 1 || got[0] != tc.wantAddr) {
				t.Errorf("brokers %v, want [%s]", got, tc.wantAddr)
			}
		})
	}
}

// contains is strings.Contains, except that an empty want requires an empty s.
func contains(s, want string) bool {
	if want == "" {
		return s == ""
	}
	return strings.Contains(s, want)
}
