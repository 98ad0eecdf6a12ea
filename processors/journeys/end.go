package journeys

import (
	"slices"
	"time"
)

// End of input (event.EndOfInput): when `shopease replay` has replayed a set of files it writes a
// marker to every partition of the raw activity AND transactions topics, all with one run id, and
// the gateways forward each, with its raw origin, to every clean partition. A clean partition
// receives the marker of raw partition r after every record of r before it, so the partition's
// schedule, told of it (SignalEnd) after the signals of those records, knows r has delivered
// everything it holds before the marker.
//
// The partition is at the end of its input when every source of both inputs has a marker after
// the last record it reported and all those newest markers carry the same run id. Then nothing
// more can arrive that a pending order could need: the order mark counts as above every order id
// and the watermark as later than every time, and every pending order is released. The same run
// id matters: after a second replay a source whose newest marker is the first replay's may still
// have the second replay's records on their way (its gateway lags), so it must not vouch for the
// sources that already sent the second replay's markers.
//
// A record of a source at a greater raw offset than its marker (a later replay, a live producer)
// ends that: the schedule keeps, per source, the newest marker's offset and run and the greatest
// record offset reported since (SignalClock and SignalOrders carry it), all only moving forward,
// so a redelivered signal changes nothing. Until the next run's markers the usual rules hold
// again. Orders released at the end stay released; a line of one arriving later is a LateLine.

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
	// Marker is the raw offset + 1 of the newest marker of the source, Run that marker's run id.
	Marker int64  `json:"m"`
	Run    string `json:"r,omitempty"`
	// Seen is the raw offset + 1 of the newest record of the source reported since: above Marker,
	// the source delivers again.
	Seen int64 `json:"n,omitempty"`
}

// EndInput records the marker of run at raw offset next-1 of source. Markers only move forward:
// an older one (a redelivery) changes nothing.
func (u *User) EndInput(source string, next int64, run string) {
	if e := u.end(source); e != nil {
		if next > e.Marker {
			e.Marker, e.Run = next, run
		}
		return
	}
	u.Ends = append(u.Ends, End{Source: source, Marker: next, Run: run})
	slices.SortFunc(u.Ends, func(a, b End) int { return compareStrings(a.Source, b.Source) })
}

// See records that source has delivered a record at raw offset next-1. Only a source with a
// marker needs it; offsets only move forward.
func (u *User) See(source string, next int64) {
	if e := u.end(source); e != nil {
		e.Seen = max(e.Seen, next)
	}
}

func (u *User) end(source string) *End {
	i := slices.IndexFunc(u.Ends, func(e End) bool { return e.Source == source })
	if i < 0 {
		return nil
	}
	return &u.Ends[i]
}

// AtEnd reports whether the partition is at the end of its input: each of sources (the raw
// partitions of both inputs) has a marker after its last reported record, and all of them are of
// one run.
func (u *User) AtEnd(sources int) bool {
	if sources <= 0 || len(u.Ends) < sources {
		return false
	}
	for _, e := range u.Ends {
		if e.Marker <= e.Seen || e.Run != u.Ends[0].Run {
			return false
		}
	}
	return true
}
