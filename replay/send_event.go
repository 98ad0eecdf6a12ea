package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/topology"
)

// ErrEventType is returned by SendEvent for a value that is not one of the raw events.
var ErrEventType = errors.New("replay: not a raw event type")

// SendEvent encodes ev (an event.Activity, TransactionLine, InventoryUpdate or Review, or a
// pointer to one) with its codec and queues it on its raw topic in namespace ns, keyed as
// docs/formats.md says and stamped with its event time. It is what the live simulator sends
// through; ts, when not zero, overrides the event time as the record timestamp.
func (p *Producer) SendEvent(ctx context.Context, ns topology.Namespace, ev any, ts time.Time) error {
	r, err := EventRecord(ns, ev)
	if err != nil {
		return err
	}
	if !ts.IsZero() {
		r.Time = ts
	}
	return p.Send(ctx, r)
}

// EventRecord returns the record SendEvent would send.
func EventRecord(ns topology.Namespace, ev any) (*Record, error) {
	r := &Record{}
	var err error
	switch v := ev.(type) {
	case event.Activity:
		return EventRecord(ns, &v)
	case event.TransactionLine:
		return EventRecord(ns, &v)
	case event.InventoryUpdate:
		return EventRecord(ns, &v)
	case event.Review:
		return EventRecord(ns, &v)
	case *event.Activity:
		r.Topic, r.Key, r.Time = string(ns.Stream(topology.Activity)), []byte(v.UserID), v.Time
		r.Value, err = codecs.Activity{}.Encode(v)
	case *event.TransactionLine:
		r.Topic, r.Key, r.Time = string(ns.Stream(topology.Transactions)), []byte(v.LineID), v.Time
		r.Value, err = codecs.TransactionLine{}.Encode(v)
	case *event.InventoryUpdate:
		r.Topic, r.Key, r.Time = string(ns.Stream(topology.Inventory)), []byte(v.SKU), v.Time
		r.Value, err = codecs.InventoryUpdate{}.Encode(v)
	case *event.Review:
		r.Topic, r.Key, r.Time = string(ns.Stream(topology.Feedback)), []byte(v.ReviewID), v.Time
		r.Value, err = codecs.Review{}.Encode(v)
	default:
		return nil, fmt.Errorf("%w: %T", ErrEventType, ev)
	}
	if err != nil {
		return nil, fmt.Errorf("replay: encode %T: %w", ev, err)
	}
	return r, nil
}
