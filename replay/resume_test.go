package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/testenv"
)

// subsetDir copies the testdata subset into a fresh directory (so tests can rename files).
func subsetDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "by-day")
	for name := range subsetRows {
		copyFile(t, filepath.Join("testdata", "online-retail", name), filepath.Join(dir, name))
	}
	return dir
}

// checkExact asserts the topic holds each row of the subset exactly once (besides end-of-input
// markers).
func checkExact(t *testing.T, brokers []string, ns topology.Namespace) {
	t.Helper()
	recs, _ := splitMarkers(readTopic(t, brokers, string(ns.Stream(topology.Transactions))))
	dups, unlabeled := duplicates(recs)
	if len(recs) != subsetTotal || dups != 0 || unlabeled != 0 {
		t.Errorf("topic holds %d records (%d duplicates, %d unlabeled), want %d once each", len(recs), dups, unlabeled, subsetTotal)
	}
}

// checkResumed asserts that the resumed run read exactly the rows the first one did not send.
func checkResumed(t *testing.T, s *Summary, sentBefore int64) {
	t.Helper()
	if s.Total.Read+s.Total.Skipped != subsetTotal || s.Total.Lost != 0 || s.Total.Sent != s.Total.Read {
		t.Errorf("resumed run: %+v; want read + skipped = %d", s.Total, subsetTotal)
	}
	if s.Total.Skipped < sentBefore {
		t.Errorf("resumed run skipped %d rows, the interrupted one had %d acknowledged", s.Total.Skipped, sentBefore)
	}
	// A file the interrupted run finished is done; the others resume.
	resumed := 0
	for _, f := range s.Files {
		switch {
		case f.Status == StatusResumed:
			resumed++
		case f.Status != StatusSkipped || f.Counts.Skipped != subsetRows[filepath.Base(f.Path)]:
			t.Errorf("file %+v, want resumed or skipped whole", f)
		}
	}
	if resumed == 0 {
		t.Errorf("no file resumed: %+v", s.Files)
	}
}

// TestResumeAfterCancel interrupts a replay by cancelling its context and runs it again.
func TestResumeAfterCancel(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		cfg := testConfig(t, k.Brokers(), ns, subsetDir(t))
		cfg.Rate = 1000 // 6,496 rows: about 6.5 s
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			// Interrupt once a good part of the rows reached the topic.
			countRecords(k.Brokers(), string(ns.Stream(topology.Transactions)), 1000, time.Minute)
			cancel()
		}()
		first, err := Run(ctx, cfg, nil)
		if err == nil || ctx.Err() == nil {
			t.Fatalf("interrupted replay returned %v, want the context's error", err)
		}
		if first.Total.Sent == 0 || first.Total.Sent >= subsetTotal || first.Total.Lost != 0 {
			t.Fatalf("interrupted replay sent %d of %d (lost %d); the test needs a partial replay", first.Total.Sent, subsetTotal, first.Total.Lost)
		}
		cfg.Rate = 0
		s := run(t, cfg)
		checkResumed(t, s, first.Total.Sent)
		checkExact(t, k.Brokers(), ns)
		if again := run(t, cfg); again.Total.Read != 0 || again.Total.Skipped != subsetTotal {
			t.Errorf("after the resumed replay finished: %+v, want a no-op", again.Total)
		}
	})
}

// Environment of the child process of TestResumeAfterKill.
const (
	envChild   = "REPLAY_TEST_CHILD"
	envChildCf = "REPLAY_TEST_CHILD_CONFIG"
)

// TestMain turns the test binary into the process TestResumeAfterKill kills when it runs it with
// REPLAY_TEST_CHILD=1: a replay that never ends on its own. Otherwise it runs the tests.
func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		var cfg Config
		if err := json.Unmarshal([]byte(os.Getenv(envChildCf)), &cfg); err != nil {
			fmt.Fprintln(os.Stderr, "replay child:", err)
			os.Exit(2)
		}
		Run(context.Background(), cfg, nil)
		fmt.Fprintln(os.Stderr, "replay child: finished before it was killed")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// TestResumeAfterKill kills a replaying process with SIGKILL and runs the replay again.
func TestResumeAfterKill(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		ns := testenv.Namespace(t)
		createTopics(t, k.Brokers(), ns)
		cfg := testConfig(t, k.Brokers(), ns, subsetDir(t))
		cfg.Rate = 2000 // about 3 s for all rows: killed well before the end
		cfg.EndOfInput = true
		cfgJSON, _ := json.Marshal(cfg)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), envChild+"=1", envChildCf+"="+string(cfgJSON))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		topic := string(ns.Stream(topology.Transactions))
		written := waitForRecords(t, k.Brokers(), topic, 1500)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || st.Signal() != syscall.SIGKILL {
			t.Fatalf("child was not killed by SIGKILL: %v\n%s", cmd.ProcessState, out)
		}
		t.Logf("killed the replaying process after %d records reached %s", written, topic)
		s := run(t, cfg)
		checkResumed(t, s, 0)
		checkExact(t, k.Brokers(), ns)
		// Killed long before its end, the first run wrote no marker; the resumed one, one each.
		checkMarkers(t, k.Brokers(), ns, topology.Transactions, 1)
	})
}

// waitForRecords waits until the topic's end offsets sum to at least n.
func waitForRecords(t *testing.T, brokers []string, topic string, n int64) int64 {
	t.Helper()
	sum, err := countRecords(brokers, topic, n, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// countRecords polls the topic's end offsets until they sum to at least n.
func countRecords(brokers []string, topic string, n int64, timeout time.Duration) (int64, error) {
	client, err := sarama.NewClient(brokers, saramaConfig("replay-test"))
	if err != nil {
		return 0, err
	}
	defer client.Close()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ends, err := endOffsets(client, []string{topic})
		if err != nil {
			continue
		}
		var sum int64
		for _, off := range ends[topic] {
			sum += off
		}
		if sum >= n {
			return sum, nil
		}
	}
	return 0, fmt.Errorf("%s never reached %d records", topic, n)
}
