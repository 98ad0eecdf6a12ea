package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Control records are records on a topic that carry no event but tell its consumers something
// about the stream itself. One exists: the end-of-input marker, which `shopease replay` writes to
// every partition of the raw activity and transactions topics when it has replayed a set of files,
// and which the two gateways forward, with its raw origin, to every partition of their clean
// topic. It says: this partition has delivered everything it will deliver until a record at a
// greater offset comes (a later replay). docs/formats.md describes it.
//
// A record is a control record iff it carries the HeaderControl header; consumers must check the
// header before decoding the value, and a control record is never an event, a reject or a dead
// letter.
const (
	// HeaderControl is the record header that makes a record a control record; its value says
	// which.
	HeaderControl = "shopease-control"
	// ControlEndOfInput is the HeaderControl value of an end-of-input marker.
	ControlEndOfInput = "end-of-input"
)

// ErrControl is returned for a control record value that does not parse.
var ErrControl = errors.New("event: bad control record")

// IsControl reports whether headers (a goka.Headers, or any header map) mark a control record.
func IsControl(headers map[string][]byte) bool {
	_, ok := headers[HeaderControl]
	return ok
}

// IsEndOfInput reports whether headers mark an end-of-input marker.
func IsEndOfInput(headers map[string][]byte) bool {
	return string(headers[HeaderControl]) == ControlEndOfInput
}

// EndOfInput is the value of an end-of-input marker (JSON).
type EndOfInput struct {
	Control string `json:"control"` // always ControlEndOfInput, for a reader without headers
	// Partitions is the partition count of the topic the marker was written to: a marker goes to
	// every partition, so a forwarder that passes it on to a co-partitioned topic knows how many
	// to write without asking the broker.
	Partitions int `json:"partitions"`
	// Markers says where the run that wrote this marker put all its markers: for each raw
	// topic partition it wrote ("topic/partition"), the offset of its marker there. A consumer
	// that joins several raw partitions is at the end of its input only once each has delivered
	// a marker at least as new as any other marker announced for it: a partition whose newest
	// marker is an older run's may still have the newer run's records on their way (its gateway
	// lags), and must not vouch for them. replay reads the offsets from the topics' ends, so the
	// same input replayed into two namespaces gets the same markers.
	Markers map[string]int64 `json:"markers,omitempty"`
}

// Encode returns the marker value.
func (e EndOfInput) Encode() []byte {
	e.Control = ControlEndOfInput
	b, _ := json.Marshal(e) // two plain fields: cannot fail
	return b
}

// DecodeEndOfInput parses a marker value.
func DecodeEndOfInput(b []byte) (EndOfInput, error) {
	var e EndOfInput
	if err := json.Unmarshal(b, &e); err != nil {
		return EndOfInput{}, fmt.Errorf("%w: %w", ErrControl, err)
	}
	if e.Control != ControlEndOfInput || e.Partitions <= 0 {
		return EndOfInput{}, fmt.Errorf("%w: control %q, %d partitions", ErrControl, e.Control, e.Partitions)
	}
	return e, nil
}

// controlKeyPrefix starts every control record key. Pseudonyms, line ids and SKUs never start
// with "~", so a control key never meets an event's key in a table.
const controlKeyPrefix = "~end-of-input/"

// IsControlKey reports whether key is a control record's (ControlKeys): a reader without the
// headers can tell markers from events by it.
func IsControlKey(key string) bool { return strings.HasPrefix(key, controlKeyPrefix) }

// ControlKeys returns, for each of partitions partitions, a record key that goka's default
// partitioner (sarama's hash partitioner over 32-bit FNV-1a, as replay's producer and every goka
// emitter use) puts in that partition: key i lands in partition i. Producers that can only choose
// a key reach every partition with them. The keys are the first of "~end-of-input/0",
// "~end-of-input/1", … to hash to each partition, so they are the same in every run.
func ControlKeys(partitions int) []string {
	if partitions <= 0 {
		return nil
	}
	keys := make([]string, partitions)
	missing := partitions
	// FNV-1a spreads consecutive numbers evenly: a few times partitions candidates fill all.
	for i := 0; missing > 0; i++ {
		k := controlKeyPrefix + strconv.Itoa(i)
		if p := KeyPartition(k, partitions); keys[p] == "" {
			keys[p] = k
			missing--
		}
	}
	return keys
}

// KeyPartition is the partition goka's default partitioner gives key among partitions: the
// 32-bit FNV-1a hash as a signed int32, modulo the count, made non-negative.
func KeyPartition(key string, partitions int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	p := int32(h.Sum32()) % int32(partitions)
	if p < 0 {
		p = -p
	}
	return int(p)
}
