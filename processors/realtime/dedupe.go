package realtime

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/shopease/shopease/processors/fence"
)

// Sighting is one activity event a user's row remembers: its window, its event id (hashed) and
// the raw origin that first carried it. The same history replayed again (`replay --force`, a
// renamed copy, replays that do not share a manifest) puts every event on the raw activity topic
// again, at another offset of the same raw partition (the topic is keyed by user), and the
// gateway passes each copy on: the event id is what tells a copy from a new event.
type Sighting struct {
	Window int64  `json:"w"`   // window start, Unix ms
	ID     uint64 `json:"id"`  // eventHash of the event id
	Source string `json:"src"` // raw topic/partition of the first origin
	Offset int64  `json:"off"` // raw offset of the first origin
}

// eventHash is the 64-bit FNV-1a hash of an event id: 8 bytes per remembered event instead of the
// id, and stable across processes (it is stored). Two events of one user and minute whose ids
// collide (about 1 in 10^19 per pair) would count once.
func eventHash(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// sourceOf is the fence source of o ("topic/partition"), the form Sighting.Source holds.
func sourceOf(o fence.Origin) string { return o.Topic + "/" + strconv.Itoa(int(o.Partition)) }

func compareSighting(s Sighting, window int64, id uint64) int {
	return cmp.Or(cmp.Compare(s.Window, window), cmp.Compare(s.ID, id))
}

// sighting returns the remembered event id of the window, if any. Seen is sorted by window and id.
func (u *User) sighting(window int64, id uint64) (Sighting, bool) {
	i, ok := slices.BinarySearchFunc(u.Seen, window, func(s Sighting, w int64) int { return compareSighting(s, w, id) })
	if !ok {
		return Sighting{}, false
	}
	return u.Seen[i], true
}

// see remembers event id in window, first carried by o.
func (u *User) see(window int64, id uint64, o fence.Origin) {
	i, ok := slices.BinarySearchFunc(u.Seen, window, func(s Sighting, w int64) int { return compareSighting(s, w, id) })
	if ok {
		return
	}
	u.Seen = slices.Insert(u.Seen, i, Sighting{Window: window, ID: id, Source: sourceOf(o), Offset: o.Offset})
}

// forget drops the windows (and their event ids) that start before cutoff.
func (u *User) forget(cutoff int64) {
	for s := range u.Active {
		if s < cutoff {
			delete(u.Active, s)
		}
	}
	i, _ := slices.BinarySearchFunc(u.Seen, cutoff, func(s Sighting, w int64) int { return cmp.Compare(s.Window, w) })
	u.Seen = slices.Delete(u.Seen, 0, i)
}

// carriedBy reports whether s's first origin is o.
func (s Sighting) carriedBy(o fence.Origin) bool {
	return s.Offset == o.Offset && s.Source == sourceOf(o)
}
