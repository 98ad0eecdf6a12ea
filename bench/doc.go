// Package bench holds the performance benchmarks that `make bench` runs against a REAL Kafka broker
// and redis-server (started by scripts/bench.sh), and the report that rewrites docs/benchmarks.md.
//
// They are Go benchmarks (go test -bench), never timed unit tests: `go test ./...` runs none of
// them. Each reports its own rate as a custom metric (records/s, events/s) so that medians over
// -count runs can be taken by the report.
package bench
