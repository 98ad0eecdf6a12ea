package inspect

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"

	"github.com/lovoo/goka/storage"
)

// cursor is one partition's iterator inside a merged scan.
type cursor struct {
	it        storage.Iterator
	partition int32
}

type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return bytes.Compare(h[i].it.Key(), h[j].it.Key()) < 0 }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// partitionIter opens the iterator of one partition for a query, positioned before its first key
// or (seek != nil) on it.
type partitionIter struct {
	partition int32
	open      func() (storage.Iterator, error)
}

// mergeScan merges partition iterators in key order — what goka's storage.NewMultiIterator does
// for a View, plus the partition each record came from. With seek set, each iterator is first
// positioned with Seek (goka's LevelDB semantics: on the first key >= seek).
func mergeScan(ctx context.Context, table string, parts []partitionIter, seek []byte, limit int, fn func(Record) error) error {
	h := make(cursorHeap, 0, len(parts))
	defer func() {
		for _, c := range h {
			c.it.Release()
		}
	}()
	for _, p := range parts {
		it, err := p.open()
		if err != nil {
			return err
		}
		var ok bool
		if seek != nil {
			ok = it.Seek(seek)
		} else {
			ok = it.Next()
		}
		if !ok {
			err := it.Err()
			it.Release()
			if err != nil {
				return fmt.Errorf("inspect: scan %s partition %d: %w", table, p.partition, err)
			}
			continue
		}
		h = append(h, &cursor{it: it, partition: p.partition})
	}
	heap.Init(&h)
	for n := 0; h.Len() > 0 && (limit == 0 || n < limit); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("inspect: scan %s: %w", table, err)
			}
		}
		c := h[0]
		v, err := c.it.Value()
		if err != nil {
			return fmt.Errorf("inspect: scan %s partition %d key %q: %w", table, c.partition, c.it.Key(), err)
		}
		rec := Record{Table: table, Partition: c.partition, Key: string(c.it.Key()), Value: bytes.Clone(v)}
		if rec.Value == nil {
			rec.Value = []byte{}
		}
		if c.it.Next() {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
			err := c.it.Err()
			c.it.Release()
			if err != nil {
				return fmt.Errorf("inspect: scan %s partition %d: %w", table, c.partition, err)
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// iteratorFor returns how to open a storage's iterator for q, and the seek target if any.
func iteratorFor(st storage.Storage, q Query) (func() (storage.Iterator, error), []byte) {
	switch {
	case q.Prefix != "":
		return func() (storage.Iterator, error) { return st.IteratorWithRange([]byte(q.Prefix), nil) }, nil
	case q.End != "":
		return func() (storage.Iterator, error) { return st.IteratorWithRange([]byte(q.Start), []byte(q.End)) }, nil
	case q.Start != "":
		return st.Iterator, []byte(q.Start)
	default:
		return st.Iterator, nil
	}
}
