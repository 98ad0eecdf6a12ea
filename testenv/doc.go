// Package testenv gives tests and the demo a Kafka and a Redis to talk to: an embedded environment
// (an in-process kfake cluster and a miniredis server on free loopback ports) that needs nothing
// installed, and the real one (an Apache Kafka 4.x broker and redis-server started by real.sh).
//
// Tests ask for "a Kafka" or "a Redis" and run the same body against both:
//
//	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
//		ns := testenv.Namespace(t) // unique topic and group prefix on the shared broker
//		... k.Brokers() ...
//	})
//
// The real servers are found through SHOPEASE_TEST_KAFKA and SHOPEASE_TEST_REDIS, which `make test`
// sets after `testenv/real.sh start` (see `testenv/real.sh env`). When they are missing a real
// subtest is skipped with a note to run `make test`, except under SHOPEASE_REQUIRE_REAL=1 (as in
// `make test` and CI), where it fails: the real environment is never silently replaced by kfake.
//
// Several tests share one real broker and one redis-server, so each test isolates itself: topics
// and groups through Namespace(t), Redis keys through KeyPrefix(t, r) (a key prefix, not a database
// number, so any number of tests and test binaries can run at once; keys are deleted at cleanup).
//
// Fault tests stop, kill and restart the real servers through RealKafkaControlFor and
// RealRedisControlFor (pid files under testenv/run, restart through real.sh).
//
// StartEmbedded is not tied to testing: `shopease demo` uses it to run without any server installed.
package testenv
