package updatecount

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/topology"
)

// Group is the processor group (before namespacing); its table is Group-table.
const Group = topology.UpdateCountGroup

// Count is the table value: how many records of the key were applied, and the offset of the last
// one. A key always lives in one partition, so offsets of its records only grow; a redelivered
// record has an offset ≤ Offset and is skipped.
type Count struct {
	N      int64
	Offset int64
}

// ErrBadCount is returned when a table value is not 16 bytes.
var ErrBadCount = errors.New("updatecount: table value is not 16 bytes")

// CountCodec encodes Count as two big-endian int64s.
type CountCodec struct{}

// Encode encodes a Count or *Count.
func (CountCodec) Encode(v interface{}) ([]byte, error) {
	var c Count
	switch x := v.(type) {
	case Count:
		c = x
	case *Count:
		c = *x
	default:
		return nil, fmt.Errorf("updatecount: encode %T: not a Count", v)
	}
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(c.N))
	binary.BigEndian.PutUint64(b[8:], uint64(c.Offset))
	return b, nil
}

// Decode returns a *Count.
func (CountCodec) Decode(b []byte) (interface{}, error) {
	if len(b) != 16 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadCount, len(b))
	}
	return &Count{N: int64(binary.BigEndian.Uint64(b)), Offset: int64(binary.BigEndian.Uint64(b[8:]))}, nil
}

// Graph defines the processor in namespace ns.
func Graph(ns topology.Namespace) *goka.GroupGraph {
	return goka.DefineGroup(ns.Group(Group),
		goka.Input(ns.Stream(topology.Inventory), new(codec.Bytes), apply),
		goka.Persist(CountCodec{}),
	)
}

func apply(ctx goka.Context, _ interface{}) {
	c := Count{Offset: -1}
	if v := ctx.Value(); v != nil {
		c = *v.(*Count)
	}
	if ctx.Offset() <= c.Offset {
		fence.Keep(ctx, &c) // redelivered after a crash: already counted
		return
	}
	c.N++
	c.Offset = ctx.Offset()
	ctx.SetValue(&c)
}

// New builds the processor; opts come after the cluster's, so a test can inject goka.WithTester.
func New(cfg cluster.Config, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := goka.NewProcessor(cfg.Brokers, Graph(cfg.Namespace), cfg.ProcessorOptions(cfg.Namespace.Group(Group), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("updatecount: build processor: %w", err)
	}
	return p, nil
}

// Run runs the processor until ctx is done; it returns nil on a clean stop.
func Run(ctx context.Context, cfg cluster.Config, opts ...goka.ProcessorOption) error {
	p, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("updatecount: run: %w", err)
	}
	return nil
}

// NewView builds a view of the count table.
func NewView(cfg cluster.Config, opts ...goka.ViewOption) (*goka.View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := cfg.Namespace.Table(Group)
	v, err := goka.NewView(cfg.Brokers, t, CountCodec{}, cfg.ViewOptions(t, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("updatecount: build view: %w", err)
	}
	return v, nil
}
