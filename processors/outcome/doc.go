// Package outcome is what every gateway does with the fate of each record it reads: count it as
// accepted, duplicate or rejected with a reason (through an Observer, so the metrics backend stays
// outside the processors), and send rejected records to the dead-letter topic with their origin and
// original bytes. accepted + duplicate + rejected = read, per processor, always.
package outcome
