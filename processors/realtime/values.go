package realtime

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/windows"
)

// Table keys other than pseudonyms start with keyMark, which no pseudonym does (pseudonyms are
// "v<version>." followed by base64url), so the kinds never collide.
const keyMark = "~"

const (
	partKeyPrefix   = keyMark + "part/" // + processor partition: its source clocks and frontier
	minuteKeyPrefix = keyMark + "w/"    // + partition "/" window start (Unix ms): one partition's minute
	globalKeyPrefix = keyMark + "m/"    // + window start (Unix ms): the minute over all partitions
	spikesKey       = keyMark + "spikes"
)

func globalKey(start int64) string { return globalKeyPrefix + strconv.FormatInt(start, 10) }

func partKey(p int32) string { return partKeyPrefix + strconv.Itoa(int(p)) }

func minuteKey(p int32, start int64) string {
	return minuteKeyPrefix + strconv.Itoa(int(p)) + "/" + strconv.FormatInt(start, 10)
}

// Counts is one window's metrics in one partition. Users live in one partition (the topics are
// keyed by pseudonym), so the distinct counts of the partitions add up to the global ones.
type Counts struct {
	Active     int64            `json:"a"`           // distinct users with ≥ 1 activity event
	Purchasers int64            `json:"p"`           // distinct users with ≥ 1 purchase line
	Events     map[string]int64 `json:"e,omitempty"` // activity events per type
}

// Total is the number of activity events.
func (c *Counts) Total() int64 {
	var n int64
	for _, v := range c.Events {
		n += v
	}
	return n
}

// add adds o to c.
func (c *Counts) add(o Counts) {
	c.Active += o.Active
	c.Purchasers += o.Purchasers
	for k, v := range o.Events {
		if c.Events == nil {
			c.Events = map[string]int64{}
		}
		c.Events[k] += v
	}
}

// User is a pseudonymous user's recent activity windows: for each window start (Unix ms), the
// smallest origin of the user's events in it. The first of them to arrive makes the user active.
// A user's clickstream comes from one raw partition (the raw activity topic is keyed by user), in
// order, so the first event to arrive is the smallest origin, in every run, and a redelivered
// event that compares its origin with it sends the note it sent the first time. (Were a user's
// clickstream spread over raw partitions, the table would still not depend on arrival, but a
// crash that lost the note of a first event later displaced by a smaller origin would lose that
// user from the window.)
type User struct {
	Fence fence.Vector `json:"f,omitempty"`
	// MaxA is the user's latest activity time, Unix ms: windows older than MaxA − Retention are
	// forgotten and events for them dropped.
	MaxA   int64            `json:"ma"`
	Active map[int64]string `json:"w,omitempty"`
	// Seen are the events counted in the windows of Active, sorted by window and event id: a
	// later event with an id seen in its window is a copy (a repeated replay), not counted.
	Seen []Sighting `json:"seen,omitempty"`
}

// Minute is one partition's share of one window: every event counted (late ones too), the
// purchasers by pseudonym (purchase lines of a user arrive from several raw partitions in any
// order: a set counts each once whatever the order and however often a line is delivered), and,
// once the partition's watermark has closed it, the activity it closed with (the spike detector's
// input) and the late events after that.
type Minute struct {
	Part   int32            `json:"part"`
	Start  int64            `json:"start"`
	Active int64            `json:"active"`
	Events map[string]int64 `json:"events,omitempty"`
	Buyers []string         `json:"buyers,omitempty"` // sorted
	Closed bool             `json:"closed,omitempty"`
	OnTime map[string]int64 `json:"on_time,omitempty"` // Events at close
	Late   int64            `json:"late,omitempty"`    // activity events after close
	// LateOrigins are the late events' origins, so a redelivered one re-sends its late record.
	LateOrigins []string     `json:"late_origins,omitempty"`
	Fence       fence.Vector `json:"f,omitempty"` // over activity origins
}

// Counts is what Redis holds of the partition's minute.
func (m *Minute) Counts() Counts {
	return Counts{Active: m.Active, Purchasers: int64(len(m.Buyers)), Events: maps.Clone(m.Events)}
}

// maxLateOrigins bounds Minute.LateOrigins; beyond it a late event redelivered after a crash may
// lose its (repeated) late record, never its count.
const maxLateOrigins = 1000

// addBuyer adds a purchaser; it reports whether the set changed.
func (m *Minute) addBuyer(user string) bool {
	i, found := slices.BinarySearch(m.Buyers, user)
	if found {
		return false
	}
	m.Buyers = slices.Insert(m.Buyers, i, user)
	return true
}

// Part is one partition's source clocks and closed frontier (package windows).
type Part struct {
	windows.Clocks
}

// Value is the group table's value; exactly one field is set, according to the key's kind.
type Value struct {
	User   *User       `json:"user,omitempty"`
	Part   *Part       `json:"part,omitempty"`
	Minute *Minute     `json:"minute,omitempty"`
	Global *Global     `json:"global,omitempty"`
	Spikes *SpikeState `json:"spikes,omitempty"`
}

// ValueCodec encodes Value: user, partition minute and spike detector rows in binary forms
// (binary.go, spikerow.go), the other rows as JSON.
type ValueCodec struct{}

// Encode encodes a *Value.
func (ValueCodec) Encode(v any) ([]byte, error) {
	if val, ok := v.(*Value); ok && val.User != nil {
		return encodeUser(val.User), nil
	}
	if val, ok := v.(*Value); ok && val.Minute != nil {
		return encodeMinute(val.Minute), nil
	}
	if val, ok := v.(*Value); ok && val.Spikes != nil {
		return encodeSpikes(val.Spikes), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode value: %w", err)
	}
	return b, nil
}

// Decode decodes a *Value.
func (ValueCodec) Decode(b []byte) (any, error) {
	if len(b) > 0 && (b[0] == binUser || b[0] == binUserV1) {
		u, err := decodeUser(b)
		if err != nil {
			return nil, err
		}
		return &Value{User: u}, nil
	}
	if len(b) > 0 && b[0] == binMinute {
		m, err := decodeMinute(b)
		if err != nil {
			return nil, err
		}
		return &Value{Minute: m}, nil
	}
	if len(b) > 0 && b[0] == binSpikes {
		s, err := decodeSpikes(b)
		if err != nil {
			return nil, err
		}
		return &Value{Spikes: s}, nil
	}
	v := &Value{}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("realtime: decode value: %w", err)
	}
	return v, nil
}

// Note kinds carried on the loopback topic.
const (
	noteEvent    = "event"    // user stage → minute: one activity event or purchase line
	noteClock    = "clock"    // user stage → partition: a raw activity source reached a window
	noteClose    = "close"    // partition → minute: the partition's watermark closed the window
	noteStart    = "start"    // partition → spikes: the first window the partition closes
	noteReport   = "report"   // minute → global minute: the partition's activity of a closed window
	noteComplete = "complete" // global minute → spikes: every partition closed it
)

// note is a loopback message between the stages of the processor.
type note struct {
	Kind   string `json:"k"`
	Origin string `json:"o,omitempty"`
	Input  string `json:"i,omitempty"` // inputActivity or inputPurchases
	Time   int64  `json:"t,omitempty"` // event time, Unix ms
	Type   string `json:"ty,omitempty"`
	User   string `json:"u,omitempty"` // pseudonym
	// NewActive: this event is the one that made the user active in its window.
	NewActive bool             `json:"na,omitempty"`
	Source    string           `json:"src,omitempty"` // clock: raw topic/partition
	Part      int32            `json:"p"`
	Start     int64            `json:"s,omitempty"` // window start (clock, close, start, report)
	Events    map[string]int64 `json:"e,omitempty"` // report, complete
}

// noteCodec encodes loopback notes: event notes in the binary form (binary.go), others as JSON.
type noteCodec struct{}

func (noteCodec) Encode(v any) ([]byte, error) {
	if n, ok := v.(*note); ok && n.Kind == noteEvent {
		return encodeEventNote(n), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode note: %w", err)
	}
	return b, nil
}

func (noteCodec) Decode(b []byte) (any, error) {
	if len(b) > 0 && b[0] == binNote {
		return decodeEventNote(b)
	}
	n := &note{}
	if err := json.Unmarshal(b, n); err != nil {
		return nil, fmt.Errorf("realtime: decode note: %w", err)
	}
	return n, nil
}

// LateEvent is a record of the late topic: an activity event that reached its partition's minute
// after the watermark closed it (still counted in Redis), or beyond the retention (dropped).
type LateEvent struct {
	User    string `json:"user"` // pseudonym
	Input   string `json:"input"`
	Type    string `json:"type"`
	Time    int64  `json:"time"`   // event time, Unix ms
	Window  int64  `json:"window"` // window start, Unix ms
	Origin  string `json:"origin"`
	Dropped bool   `json:"dropped"` // beyond the retention: not counted
}

// LateCodec encodes LateEvent as JSON.
type LateCodec struct{}

// Encode encodes a *LateEvent.
func (LateCodec) Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode late event: %w", err)
	}
	return b, nil
}

// Decode decodes a *LateEvent.
func (LateCodec) Decode(b []byte) (any, error) {
	l := &LateEvent{}
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("realtime: decode late event: %w", err)
	}
	return l, nil
}
