package cli

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopease/shopease/testenv"
)

func runMain(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := Main(context.Background(), args, &out, &out)
	return out.String(), code
}

// TestTopicsAndSimulate drives the commands a user types first, on both Kafkas: topics create,
// describe (co-partitioned), and a short simulation whose every record is acknowledged.
func TestTopicsAndSimulate(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		common := []string{"--brokers", strings.Join(k.Brokers(), ","), "--namespace", string(testenv.Namespace(t))}
		out, code := runMain(t, append([]string{"topics", "create", "--partitions", "3"}, common...)...)
		if code != 0 || strings.Count(out, " created") != 5 {
			t.Fatalf("topics create: exit %d, want 5 topics created:\n%s", code, out)
		}
		out, code = runMain(t, append([]string{"topics", "create", "--partitions", "4"}, common...)...)
		if code != 1 || !strings.Contains(out, "has 3, want 4") {
			t.Fatalf("topics create with another count: exit %d:\n%s", code, out)
		}
		out, code = runMain(t, append([]string{"topics", "describe"}, common...)...)
		if code != 0 || !strings.Contains(out, "raw topics are co-partitioned") || strings.Count(out, "  3  ") < 5 {
			t.Fatalf("topics describe: exit %d:\n%s", code, out)
		}
		out, code = runMain(t, append([]string{"simulate", "--rate", "300", "--duration", "3s", "--spike-every", "0"}, common...)...)
		m := regexp.MustCompile(`sent (\d+) records \((\d+) acknowledged, 0 failed\)`).FindStringSubmatch(out)
		if code != 0 || m == nil || m[1] != m[2] {
			t.Fatalf("simulate: exit %d:\n%s", code, out)
		}
		if n, _ := strconv.Atoi(m[1]); n < 300 {
			t.Errorf("simulate sent %d records in 3 s at 300/s", n)
		}
	})
}

// TestReplayCommand: a generated history replayed twice through the command: the first run sends
// every mappable row and reports the rest as rejected, the second is a no-op (manifest).
func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	if out, code := runMain(t, "generate", "--preset", "tiny", "--out", dir+"/h"); code != 0 {
		t.Fatalf("generate: %s", out)
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		common := []string{"--brokers", strings.Join(k.Brokers(), ","), "--namespace", string(testenv.Namespace(t))}
		if out, code := runMain(t, append([]string{"topics", "create", "--partitions", "2"}, common...)...); code != 0 {
			t.Fatalf("topics create: %s", out)
		}
		args := append([]string{"replay", dir + "/h", "--manifest", t.TempDir() + "/m.json", "--rejects", ""}, common...)
		out, code := runMain(t, args...)
		total := regexp.MustCompile(`(?m)^\s+total\s+12\s+4840\s+4731\s+109\s+0\s+0\s`)
		if code != 0 || !total.MatchString(out) {
			t.Fatalf("first replay: exit %d, want total 4840 read, 4731 sent, 109 rejected:\n%s", code, out)
		}
		out, code = runMain(t, args...)
		again := regexp.MustCompile(`(?m)^\s+total\s+12\s+0\s+0\s+0\s+4840\s+0\s`)
		if code != 0 || !again.MatchString(out) {
			t.Fatalf("second replay: exit %d, want all 4840 rows skipped:\n%s", code, out)
		}
	})
}
