package tables

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Iterator returns an iterator over a snapshot of all table keys in key order.
func (s *Storage) Iterator() (storage.Iterator, error) {
	return s.newIter([]byte{keyData}, []byte{keyEnd})
}

// IteratorWithRange iterates over a snapshot of the keys in [start, limit). It behaves exactly like
// goka's LevelDB store: when limit is empty (nil or zero length) the range is not [start, ∞) but
// goleveldb's util.BytesPrefix(start), so start acts as a prefix; a prefix of only 0xff bytes (and
// an empty one) has no upper bound. When limit is given, start nil means from the first key.
func (s *Storage) IteratorWithRange(start, limit []byte) (storage.Iterator, error) {
	if len(limit) > 0 {
		if bytes.Compare(start, limit) >= 0 {
			return &iterator{state: iterEOI}, nil // empty range; Pebble rejects lower > upper
		}
		return s.newIter(dataKeyBytes(start), dataKeyBytes(limit))
	}
	r := util.BytesPrefix(start)
	upper := []byte{keyEnd}
	if r.Limit != nil {
		upper = dataKeyBytes(r.Limit)
	}
	return s.newIter(dataKeyBytes(r.Start), upper)
}

func (s *Storage) newIter(lower, upper []byte) (storage.Iterator, error) {
	if err := s.beforeRead(); err != nil {
		return nil, err
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("tables: iterator on %s: %w", s.path, err)
	}
	return &iterator{it: it, lower: lower, upper: upper}, nil
}

type iterState int

const (
	iterStart    iterState = iota // not positioned yet: Next goes to the first key
	iterValid                     // positioned on a key
	iterEOI                       // exhausted: Next stays false, Seek may reposition
	iterReleased                  // released: everything is false/nil, Err says why
)

// iterator gives Pebble's iterator the semantics of goka's LevelDB iterator (goleveldb's dbIter
// behind goka's wrapper): Next on a fresh iterator moves to the first key; Seek positions on the
// first key >= the target, so Key and Value are readable right after it and Next moves past it; an
// exhausted iterator stays exhausted for Next; after Release, Next and Seek return false and Err
// returns ErrIteratorReleased. Key and Value are valid until the iterator moves, as goka's
// storage.Iterator documents (goka's merge iterator copies them).
type iterator struct {
	it           *pebble.Iterator // nil for an empty range
	lower, upper []byte
	state        iterState
	err          error
}

func (i *iterator) Next() bool {
	switch i.state {
	case iterReleased:
		i.err = ErrIteratorReleased
		return false
	case iterEOI:
		return false
	case iterStart:
		return i.settle(i.it != nil && i.it.First())
	default:
		return i.settle(i.it.Next())
	}
}

func (i *iterator) Seek(key []byte) bool {
	switch i.state {
	case iterReleased:
		i.err = ErrIteratorReleased
		return false
	}
	if i.it == nil {
		i.state = iterEOI
		return false
	}
	target := dataKeyBytes(key)
	if bytes.Compare(target, i.lower) < 0 {
		target = i.lower // goleveldb clamps a seek below the range to its start
	}
	if bytes.Compare(target, i.upper) >= 0 {
		i.state = iterEOI
		return false
	}
	return i.settle(i.it.SeekGE(target))
}

func (i *iterator) settle(valid bool) bool {
	if valid {
		i.state = iterValid
		return true
	}
	i.state = iterEOI
	if i.it != nil {
		if err := i.it.Error(); err != nil {
			i.err = fmt.Errorf("tables: iterate: %w", err)
		}
	}
	return false
}

func (i *iterator) Err() error { return i.err }

func (i *iterator) Key() []byte {
	if i.state != iterValid {
		return nil
	}
	return i.it.Key()[1:]
}

func (i *iterator) Value() ([]byte, error) {
	if i.state != iterValid {
		return nil, nil
	}
	v, err := i.it.ValueAndErr()
	if err != nil {
		return nil, fmt.Errorf("tables: read value of %q: %w", i.Key(), err)
	}
	return v, nil
}

func (i *iterator) Release() {
	if i.state == iterReleased {
		return
	}
	i.state = iterReleased
	if i.it != nil {
		if err := i.it.Close(); err != nil && i.err == nil {
			i.err = fmt.Errorf("tables: close iterator: %w", err)
		}
		i.it = nil
	}
}
