package fence

import (
	"fmt"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/event"
)

// ForwardEndOfInput passes an end-of-input marker (event.EndOfInput, value raw, read from a raw
// topic at origin o) on to every partition of topic, which must have the raw topic's partition
// count (the marker names it): one record per partition, keyed with event.ControlKeys, the value
// unchanged, stamped with o and the control header. Each partition of topic then learns that the
// raw partition has delivered everything before the marker, because one producer per processor
// partition keeps the order. topic's codec must write a []byte as it is (codecs.Control). It
// returns the marker's decode error, and then emits nothing.
func ForwardEndOfInput(ctx goka.Context, topic goka.Stream, raw []byte, o Origin) error {
	m, err := event.DecodeEndOfInput(raw)
	if err != nil {
		return fmt.Errorf("fence: end-of-input marker at %s: %w", o, err)
	}
	h := Headers(o)
	h[event.HeaderControl] = []byte(event.ControlEndOfInput)
	for _, k := range event.ControlKeys(m.Partitions) {
		ctx.Emit(topic, k, raw, goka.WithCtxEmitHeaders(h))
	}
	return nil
}
