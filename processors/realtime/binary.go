package realtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopease/shopease/processors/fence"
)

// The user rows, the partition minute rows and the event notes are the per-event reads and writes
// of the processor; JSON was most of its CPU (BenchmarkRealtime's profile: decoding the user row
// alone a quarter, then the minute row a sixth). They use a compact binary form instead: a kind
// byte, then varints and length-prefixed strings (maps in key order). So does the spike detector's
// row (spikerow.go). The other rows, written once per window, stay JSON (their first byte is '{').
const (
	binUser = 'V'
	binNote = 'N'
	// binUserV1 is the user row before it remembered event ids (Seen): decoded, never written.
	// A new tag rather than an optional tail, so that a row cut after its windows is an error.
	binUserV1 = 'U'
)

// ErrBinary is returned for a binary value or note that does not decode.
var ErrBinary = errors.New("realtime: bad binary encoding")

type binWriter struct{ b []byte }

func (w *binWriter) int(v int64)  { w.b = binary.AppendVarint(w.b, v) }
func (w *binWriter) uint(v int)   { w.b = binary.AppendUvarint(w.b, uint64(v)) }
func (w *binWriter) str(s string) { w.uint(len(s)); w.b = append(w.b, s...) }

type binReader struct {
	b   []byte
	err error
}

func (r *binReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = ErrBinary
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *binReader) uint() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b))*8+64 {
		r.err = ErrBinary
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *binReader) str() string {
	n := r.uint()
	if r.err != nil || n > len(r.b) {
		r.err = ErrBinary
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (w *binWriter) fence(v fence.Vector) {
	w.uint(len(v))
	for _, m := range v {
		w.str(m.Source)
		w.int(m.Offset)
	}
}

func (r *binReader) fence() fence.Vector {
	n := r.uint()
	var v fence.Vector
	for range n {
		if r.err != nil {
			return nil
		}
		v = append(v, fence.Mark{Source: r.str(), Offset: r.int()})
	}
	return v
}

// encodeUser writes u: MaxA, the fence, then the windows in start order, each as its start (delta)
// and its origin as an index into the fence's sources (every origin stored was admitted, so its
// source is there) and an offset; then the sightings in order, each as its window (delta), its
// 8-byte id, and its origin as a source index and an offset (delta).
func encodeUser(u *User) []byte {
	w := &binWriter{b: make([]byte, 0, 16+24*len(u.Fence)+12*len(u.Active)+13*len(u.Seen))}
	w.b = append(w.b, binUser)
	w.int(u.MaxA)
	w.fence(u.Fence)
	starts := make([]int64, 0, len(u.Active))
	for s := range u.Active {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	w.uint(len(starts))
	prev := int64(0)
	for _, s := range starts {
		w.int(s - prev)
		prev = s
		o := u.Active[s]
		i := strings.LastIndexByte(o, '/')
		src := slices.IndexFunc(u.Fence, func(m fence.Mark) bool { return i > 0 && m.Source == o[:i] })
		off, err := strconv.ParseInt(o[i+1:], 10, 64)
		if src < 0 || err != nil {
			// Not an admitted origin (cannot happen): keep it verbatim.
			w.int(-1)
			w.str(o)
			continue
		}
		w.int(int64(src))
		w.int(off)
	}
	w.uint(len(u.Seen))
	prevW, prevOff := int64(0), int64(0)
	for _, s := range u.Seen {
		w.int(s.Window - prevW)
		w.b = binary.LittleEndian.AppendUint64(w.b, s.ID)
		if src := slices.IndexFunc(u.Fence, func(m fence.Mark) bool { return m.Source == s.Source }); src >= 0 {
			w.int(int64(src))
		} else {
			w.int(-1) // not an admitted source (cannot happen): keep it verbatim
			w.str(s.Source)
		}
		w.int(s.Offset - prevOff)
		prevW, prevOff = s.Window, s.Offset
	}
	return w.b
}

func (r *binReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.err = ErrBinary
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func decodeUser(b []byte) (*User, error) {
	r := &binReader{b: b[1:]}
	u := &User{MaxA: r.int()}
	u.Fence = r.fence()
	n := r.uint()
	if n > 0 && r.err == nil {
		u.Active = make(map[int64]string, n)
	}
	prev := int64(0)
	for range n {
		if r.err != nil {
			break
		}
		prev += r.int()
		src := r.int()
		switch {
		case src == -1:
			u.Active[prev] = r.str()
		case src >= 0 && src < int64(len(u.Fence)):
			u.Active[prev] = u.Fence[src].Source + "/" + strconv.FormatInt(r.int(), 10)
		default:
			r.err = ErrBinary
		}
	}
	if b[0] == binUser {
		u.Seen = r.sightings(u.Fence)
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("realtime: decode user: %w", ErrBinary)
	}
	return u, nil
}

// sightings reads encodeUser's sightings; their sources share the fence's strings.
func (r *binReader) sightings(f fence.Vector) []Sighting {
	n := r.uint()
	if n == 0 || r.err != nil {
		return nil
	}
	out := make([]Sighting, 0, min(n, len(r.b)/11+1))
	prevW, prevOff := int64(0), int64(0)
	for range n {
		if r.err != nil {
			return nil
		}
		s := Sighting{Window: prevW + r.int(), ID: r.uint64()}
		switch src := r.int(); {
		case src == -1:
			s.Source = r.str()
		case src >= 0 && src < int64(len(f)):
			s.Source = f[src].Source
		default:
			r.err = ErrBinary
		}
		s.Offset = prevOff + r.int()
		prevW, prevOff = s.Window, s.Offset
		out = append(out, s)
	}
	return out
}

// encodeEventNote writes an event note (the kind every event sends); other notes are JSON.
func encodeEventNote(n *note) []byte {
	w := &binWriter{b: make([]byte, 0, 32+len(n.Origin)+len(n.Type)+len(n.User))}
	w.b = append(w.b, binNote)
	w.str(n.Input)
	w.str(n.Origin)
	w.int(n.Time)
	w.str(n.Type)
	w.str(n.User)
	active := int64(0)
	if n.NewActive {
		active = 1
	}
	w.int(active)
	w.int(int64(n.Part))
	return w.b
}

func decodeEventNote(b []byte) (*note, error) {
	r := &binReader{b: b[1:]}
	n := &note{Kind: noteEvent, Input: r.str(), Origin: r.str(), Time: r.int(), Type: r.str(), User: r.str()}
	n.NewActive = r.int() == 1
	n.Part = int32(r.int())
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("realtime: decode note: %w", ErrBinary)
	}
	return n, nil
}

// binMinute marks a partition minute row, the row every event note updates.
const binMinute = 'M'

func (w *binWriter) counts(m map[string]int64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.uint(len(keys))
	for _, k := range keys {
		w.str(k)
		w.int(m[k])
	}
}

func (r *binReader) counts() map[string]int64 {
	n := r.uint()
	if n == 0 || r.err != nil {
		return nil
	}
	m := make(map[string]int64, n)
	for range n {
		if r.err != nil {
			return nil
		}
		k := r.str()
		m[k] = r.int()
	}
	return m
}

func (w *binWriter) strs(s []string) {
	w.uint(len(s))
	for _, v := range s {
		w.str(v)
	}
}

func (r *binReader) strs() []string {
	n := r.uint()
	if n == 0 || r.err != nil {
		return nil
	}
	out := make([]string, 0, min(n, len(r.b)))
	for range n {
		if r.err != nil {
			return nil
		}
		out = append(out, r.str())
	}
	return out
}

func encodeMinute(m *Minute) []byte {
	w := &binWriter{b: make([]byte, 0, 64+40*len(m.Buyers)+24*len(m.Fence))}
	w.b = append(w.b, binMinute)
	w.int(int64(m.Part))
	w.int(m.Start)
	w.int(m.Active)
	w.counts(m.Events)
	w.strs(m.Buyers)
	closed := int64(0)
	if m.Closed {
		closed = 1
	}
	w.int(closed)
	w.counts(m.OnTime)
	w.int(m.Late)
	w.strs(m.LateOrigins)
	w.fence(m.Fence)
	return w.b
}

func decodeMinute(b []byte) (*Minute, error) {
	r := &binReader{b: b[1:]}
	m := &Minute{Part: int32(r.int()), Start: r.int(), Active: r.int()}
	m.Events = r.counts()
	m.Buyers = r.strs()
	m.Closed = r.int() == 1
	m.OnTime = r.counts()
	m.Late = r.int()
	m.LateOrigins = r.strs()
	m.Fence = r.fence()
	if r.err != nil || len(r.b) != 0 {
		return nil, fmt.Errorf("realtime: decode minute: %w", ErrBinary)
	}
	return m, nil
}
