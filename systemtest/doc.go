// Package systemtest runs the shopease binary the way an operator does — as a process, against the
// embedded broker and a real Kafka broker — and checks the promises that only hold end to end:
// no raw user id leaves the raw topics (the PII canary), and a processor group killed with SIGKILL
// at random moments ends with exactly the tables of an undisturbed run.
//
// The package has only tests. The fast variants run in `make test`; the long ones are behind the
// `faults` build tag and run in `make test-faults`.
package systemtest
