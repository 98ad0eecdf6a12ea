package inspect

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/tables"
)

// ViewOption configures NewViewSource.
type ViewOption func(*ViewSource)

// WithGokaViewOptions adds options to every goka.NewView the source makes (the Kafka client
// settings; tests pass goka.WithViewTester). A storage builder among them is overridden: the
// source always keeps its views in Pebble under its own dir (WithViewStorageDir), so scans have
// goka's LevelDB semantics and no processor's data dir is ever opened.
func WithGokaViewOptions(opts ...goka.ViewOption) ViewOption {
	return func(s *ViewSource) {
		s.viewOpts = append(s.viewOpts, func(string) []goka.ViewOption { return opts })
	}
}

// WithGokaViewOptionsFunc is WithGokaViewOptions for options that depend on the table, such as
// cluster.Config.ViewOptions(goka.Table(table)).
func WithGokaViewOptionsFunc(f func(table string) []goka.ViewOption) ViewOption {
	return func(s *ViewSource) { s.viewOpts = append(s.viewOpts, f) }
}

// WithViewHasher sets the hasher of the processor group that writes the tables (default
// goka.DefaultHasher()); the views use it too.
func WithViewHasher(h func() hash.Hash32) ViewOption { return func(s *ViewSource) { s.hasher = h } }

// WithViewStorageDir keeps the views' local copies under dir instead of a temporary directory that
// Close removes. A kept dir makes the next inspection start from where this one stopped.
func WithViewStorageDir(dir string) ViewOption { return func(s *ViewSource) { s.dir = dir } }

// ViewSource reads tables online through goka Views against the cluster: each table is loaded into
// a local Pebble copy from its changelog topic the first time it is asked for, and kept up to date
// until Close. It reads the changelog only; it never writes to a table.
type ViewSource struct {
	brokers  []string
	viewOpts []func(table string) []goka.ViewOption
	hasher   func() hash.Hash32
	dir      string
	tempDir  bool

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	views  map[string]*liveView
}

type liveView struct {
	view  *goka.View
	parts int32
	ready chan struct{} // closed when running or failed
	done  chan struct{} // closed when Run returned
	err   error         // Run's error, read after done
}

var _ Source = (*ViewSource)(nil)

// NewViewSource returns a source that reads tables through goka Views on brokers.
func NewViewSource(brokers []string, opts ...ViewOption) (*ViewSource, error) {
	s := &ViewSource{brokers: brokers, hasher: goka.DefaultHasher(), views: map[string]*liveView{}}
	for _, o := range opts {
		o(s)
	}
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "shopease-inspect-")
		if err != nil {
			return nil, fmt.Errorf("inspect: view storage dir: %w", err)
		}
		s.dir, s.tempDir = dir, true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// view returns the running view of table, starting it and waiting for its recovery on first use.
func (s *ViewSource) view(ctx context.Context, table string) (*liveView, error) {
	s.mu.Lock()
	lv, ok := s.views[table]
	if !ok {
		var err error
		if lv, err = s.start(table); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.views[table] = lv
	}
	s.mu.Unlock()
	select {
	case <-lv.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("inspect: waiting for view of %s: %w", table, ctx.Err())
	}
	select {
	case <-lv.done:
		return nil, fmt.Errorf("inspect: view of %s stopped: %w", table, lv.err)
	default:
		return lv, nil
	}
}

func (s *ViewSource) start(table string) (*liveView, error) {
	opts := []goka.ViewOption{goka.WithViewHasher(s.hasher)}
	for _, f := range s.viewOpts {
		opts = append(opts, f(table)...)
	}
	opts = append(opts, goka.WithViewStorageBuilder(tables.NewBuilder(s.dir)))
	v, err := goka.NewView(s.brokers, goka.Table(table), new(codec.Bytes), opts...)
	if err != nil {
		return nil, fmt.Errorf("inspect: view of %s: %w", table, err)
	}
	lv := &liveView{view: v, ready: make(chan struct{}), done: make(chan struct{})}
	lv.parts = int32(len(v.Stats(context.Background()).Partitions))
	go func() {
		defer close(lv.done)
		lv.err = v.Run(s.ctx)
		if lv.err == nil {
			lv.err = errors.New("view closed")
		}
	}()
	go func() {
		defer close(lv.ready)
		select {
		case <-v.WaitRunning():
		case <-lv.done:
		}
	}()
	return lv, nil
}

// Get reads key through the table's view.
func (s *ViewSource) Get(ctx context.Context, table, key string) (Record, bool, error) {
	lv, err := s.view(ctx, table)
	if err != nil {
		return Record{}, false, err
	}
	v, err := lv.view.Get(key)
	if err != nil {
		return Record{}, false, fmt.Errorf("inspect: view get %s key %q: %w", table, key, err)
	}
	if v == nil {
		return Record{}, false, nil
	}
	return Record{Table: table, Partition: s.partition(lv, key), Key: key, Value: bytesOf(v)}, true, nil
}

func (s *ViewSource) partition(lv *liveView, key string) int32 {
	if lv.parts <= 0 {
		return -1
	}
	return PartitionFor(s.hasher, key, lv.parts)
}

func bytesOf(v any) []byte {
	b, _ := v.([]byte) // the views use codec.Bytes: every value is a []byte
	if b == nil {
		return []byte{}
	}
	return append([]byte{}, b...)
}

// Scan iterates the view (goka merges the partitions in key order).
func (s *ViewSource) Scan(ctx context.Context, table string, q Query, fn func(Record) error) error {
	if err := q.validate(); err != nil {
		return err
	}
	lv, err := s.view(ctx, table)
	if err != nil {
		return err
	}
	var it goka.Iterator
	switch {
	case q.Prefix != "":
		it, err = lv.view.IteratorWithRange(q.Prefix, "")
	case q.End != "":
		it, err = lv.view.IteratorWithRange(q.Start, q.End)
	default:
		it, err = lv.view.Iterator()
	}
	if err != nil {
		return fmt.Errorf("inspect: view scan %s: %w", table, err)
	}
	defer it.Release()
	if q.Prefix == "" && q.End == "" && q.Start != "" {
		// goka's merged iterator positions its partitions on Seek; the next Next yields the first
		// key >= Start.
		it.Seek(q.Start)
	}
	for n := 0; (q.Limit == 0 || n < q.Limit) && it.Next(); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("inspect: view scan %s: %w", table, err)
			}
		}
		v, err := it.Value()
		if err != nil {
			return fmt.Errorf("inspect: view scan %s key %q: %w", table, it.Key(), err)
		}
		key := it.Key()
		if err := fn(Record{Table: table, Partition: s.partition(lv, key), Key: key, Value: bytesOf(v)}); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("inspect: view scan %s: %w", table, err)
	}
	return nil
}

// Count counts the keys q selects by scanning the view.
func (s *ViewSource) Count(ctx context.Context, table string, q Query) (int64, error) {
	q.Limit = 0
	var n int64
	err := s.Scan(ctx, table, q, func(Record) error { n++; return nil })
	return n, err
}

// Close stops every view, waits for them and removes the temporary storage dir.
func (s *ViewSource) Close() error {
	s.cancel()
	s.mu.Lock()
	views := s.views
	s.views = map[string]*liveView{}
	s.mu.Unlock()
	for _, lv := range views {
		<-lv.done
	}
	if s.tempDir {
		if err := os.RemoveAll(s.dir); err != nil {
			return fmt.Errorf("inspect: remove view storage: %w", err)
		}
	}
	return nil
}
