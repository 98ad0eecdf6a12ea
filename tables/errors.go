package tables

import "errors"

var (
	// ErrBadOption is returned by NewBuilder, Open and ParseSyncPolicy for an option value out of range.
	ErrBadOption = errors.New("tables: bad option")
	// ErrNilValue is returned by Set for a nil value. goka never stores nil (it deletes instead), and
	// goka's memory store refuses it too; an empty non-nil value is stored as empty.
	ErrNilValue = errors.New("tables: nil value")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("tables: storage closed")
	// ErrIteratorReleased is returned by Iterator.Err after Next or Seek was called on a released
	// iterator, as goleveldb's ErrIterReleased is.
	ErrIteratorReleased = errors.New("tables: iterator released")
	// ErrCorruptOffset is returned by GetOffset when the stored offset is not a decimal integer.
	ErrCorruptOffset = errors.New("tables: corrupt stored offset")
)
