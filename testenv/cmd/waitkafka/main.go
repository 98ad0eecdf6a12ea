// Command waitkafka waits until a Kafka broker answers a metadata request through sarama (the client
// goka uses), so testenv/real.sh knows the broker it started is ready for the tests.
//
//	waitkafka -brokers 127.0.0.1:21092 -timeout 90s -pid 1234
//
// It exits 0 once the broker answers, 1 on timeout or when the process named by -pid has died (so a
// broker that failed to start is reported at once instead of after the whole timeout).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:21092", "comma-separated broker addresses")
	timeout := flag.Duration("timeout", 90*time.Second, "how long to wait")
	pid := flag.Int("pid", 0, "fail as soon as this process is gone (0: do not watch)")
	flag.Parse()
	if err := wait(strings.Split(*brokers, ","), *timeout, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "waitkafka:", err)
		os.Exit(1)
	}
}

func wait(brokers []string, timeout time.Duration, pid int) error {
	deadline := time.Now().Add(timeout)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Net.DialTimeout = 2 * time.Second
	cfg.Metadata.Retry.Max = 0
	var last error
	for time.Now().Before(deadline) {
		if pid > 0 && syscall.Kill(pid, 0) != nil {
			return fmt.Errorf("broker process %d exited while waiting (last error: %w)", pid, last)
		}
		n, err := brokerCount(brokers, cfg)
		if err == nil && n > 0 {
			return nil
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("no answer from %v within %s: %w", brokers, timeout, last)
}

// brokerCount asks for the cluster's metadata; a KRaft broker answers only once it has registered
// with its controller, which is exactly "ready" for the tests.
func brokerCount(brokers []string, cfg *sarama.Config) (int, error) {
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer client.Close()
	if err := client.RefreshMetadata(); err != nil {
		return 0, fmt.Errorf("metadata: %w", err)
	}
	return len(client.Brokers()), nil
}
