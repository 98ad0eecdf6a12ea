package bench

import (
	"os"
	"testing"

	"github.com/shopease/shopease/testenv"
)

// realBrokers returns the real broker that scripts/bench.sh started. Benchmarks never fall back to
// the embedded broker: its figures would say nothing about a deployment.
func realBrokers(b *testing.B) []string {
	b.Helper()
	addr := os.Getenv(testenv.EnvKafka)
	if addr == "" {
		b.Fatalf("no real Kafka: %s is not set; run `make bench`", testenv.EnvKafka)
	}
	return []string{addr}
}
