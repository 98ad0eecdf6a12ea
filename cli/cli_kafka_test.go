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
