package journeys

import (
	"slices"
	"time"
)

// End of input (event.EndOfInput): when `shopease replay` has replayed a set of files it writes a
// marker to every partition of each raw topic it wrote, and the gateways forward each, with its
// raw origin, to every clean partition. A clean partition receives the marker of raw partition r
// after every record of r before it, so the partition's schedule, told of it (SignalEnd) after
// the signals of those records, knows r has delivered everything it holds before the marker.
// Every marker also announces where its run put all its markers (event.EndOfInput.Markers).
//
// The partition is at the end of its input when every source of both inputs has a marker after
// the last record it reported, and at least as new as any marker announced for it. Then nothing
// more can arrive that a pending order could need: the order mark counts as above every order id
// and the watermark as later than every time, and every pending order is released. The
// announcements matter after a second replay: a source whose newest marker is the first
// replay's may still have the second replay's records on their way (its gateway lags), and the
// second replay's markers on the other sources say so. Replaying transactions and activity in
// two runs works either way round: the first run's markers leave the other input without any.
//
// A record of a source at a greater raw offset than its marker (a later replay, a live producer)
// ends that: the schedule keeps, per source, the newest marker's offset, the newest announced,
// and which marker a record has been reported after (SignalClock and SignalOrders carry the
// record's offset), all only moving forward, so a redelivered signal changes nothing and the
// stored state depends on the input alone. Until the next markers the usual rules hold again. Orders released at the end stay released; a line of one arriving later is a
// LateLine.

// orderAfterAll is the order mark at the end of input: above every order id (valid UTF-8 never
// holds the byte 0xff). It is computed, never stored.
const orderAfterAll = "\xff"

// timeAfterAll is the activity watermark at the end of input: later than any purchase's due
// time. It is computed, never stored.
var timeAfterAll = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// End is what a schedule knows of a raw source's end-of-input markers. Offsets are stored plus
// one, so that 0 means none.
type End struct {
	Source string `json:"s"`
	// Marker is the raw offset + 1 of the newest marker of the source that has arrived, Want of
	// the newest announced for it by any marker.
	Marker int64 `json:"m,omitempty"`
	Want   int64 `json:"w,omitempty"`
	// Seen is the Marker that a record of the source has been reported after (a later replay):
	// while it equals Marker, the source delivers again. It holds the marker, not the record's
	// offset, so that the stored state does not depend on which record happened to report.
	Seen int64 `json:"n,omitempty"`
}

// EndInput records the marker at raw offset next-1 of source and the markers it announces
// (source → raw offset + 1). Everything only moves forward: an older marker (a redelivery)
// changes nothing.
func (u *User) EndInput(source string, next int64, announced map[string]int64) {
	u.endOf(source).Marker = max(u.endOf(source).Marker, next)
	for s, want := range announced {
		u.endOf(s).Want = max(u.endOf(s).Want, want)
	}
}

// See records that source has delivered a record at raw offset next-1. Only a record after the
// source's marker counts (a redelivered older one changes nothing).
func (u *User) See(source string, next int64) {
	i := slices.IndexFunc(u.Ends, func(e End) bool { return e.Source == source })
	if i >= 0 && u.Ends[i].Marker > 0 && next > u.Ends[i].Marker {
		u.Ends[i].Seen = u.Ends[i].Marker
	}
}

// endOf returns source's entry, adding it (in source order) when missing.
func (u *User) endOf(source string) *End {
	i, ok := slices.BinarySearchFunc(u.Ends, source, func(e End, s string) int { return compareStrings(e.Source, s) })
	if !ok {
		u.Ends = slices.Insert(u.Ends, i, End{Source: source})
	}
	return &u.Ends[i]
}

// AtEnd reports whether the partition is at the end of its input: each of sources (the raw
// partitions of both inputs) has a marker after its last reported record and at least as new as
// any announced for it.
func (u *User) AtEnd(sources int) bool {
	if sources <= 0 || len(u.Ends) < sources {
		return false
	}
	for _, e := range u.Ends {
		if e.Marker == 0 || e.Marker <= e.Seen || e.Marker < e.Want {
			return false
		}
	}
	return true
}
