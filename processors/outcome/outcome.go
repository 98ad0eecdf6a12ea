package outcome

import (
	"sort"
	"sync"
	"time"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
)

// Outcome is the fate of one input record.
type Outcome string

// The outcomes other than rejections (which are "rejected/<reason>").
const (
	Accepted  Outcome = "accepted"
	Duplicate Outcome = "duplicate"
)

// Rejected is the outcome of a record rejected for reason r.
func Rejected(r event.Reason) Outcome { return Outcome("rejected/" + string(r)) }

// Observer is told the outcome of every record a processor reads. Implementations must be safe for
// concurrent use (goka runs partitions in parallel) and cheap.
type Observer interface {
	Observe(processor string, o Outcome)
}

// Nop is an Observer that does nothing.
type Nop struct{}

// Observe does nothing.
func (Nop) Observe(string, Outcome) {}

// Counts is an in-memory Observer, for tests and for the /metrics endpoint.
type Counts struct {
	mu sync.Mutex
	m  map[string]map[Outcome]int64
}

// Observe counts one outcome.
func (c *Counts) Observe(processor string, o Outcome) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]map[Outcome]int64{}
	}
	if c.m[processor] == nil {
		c.m[processor] = map[Outcome]int64{}
	}
	c.m[processor][o]++
	c.mu.Unlock()
}

// Of returns a copy of one processor's counts.
func (c *Counts) Of(processor string) map[Outcome]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[Outcome]int64{}
	for k, v := range c.m[processor] {
		out[k] = v
	}
	return out
}

// Processors lists the processors that reported, sorted.
func (c *Counts) Processors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ps []string
	for p := range c.m {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// DeadLetter emits a rejected record to topic (the namespaced dead-letter stream, declared as a
// goka.Output with codecs.DeadLetter), keyed by its origin and stamped with it, so the record can
// be found, fixed and replayed. detail must never contain a raw user id.
func DeadLetter(ctx goka.Context, topic goka.Stream, processor string, reason event.Reason, detail string, o fence.Origin, original []byte) {
	dl := &event.DeadLetter{
		Reason:    string(reason),
		Detail:    detail,
		Source:    o.String(),
		Processor: processor,
		Key:       []byte(ctx.Key()),
		Original:  original,
		Time:      time.Now().UTC(),
	}
	fence.Emit(ctx, topic, o.String(), dl, o)
}
