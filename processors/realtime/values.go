package realtime

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/windows"
)

// Table keys other than pseudonyms start with keyMark, which no pseudonym does (pseudonyms are
// "v<version>." followed by base64url), so the kinds never collide.
const keyMark = "~"

const (
	partKeyPrefix   = keyMark + "part/"   // + processor partition: the partition's open windows
	minuteKeyPrefix = keyMark + "minute/" // + window start (Unix ms): closed windows of every partition
	spikesKey       = keyMark + "spikes"  // the spike detector over all partitions
)

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

func (c Counts) clone() Counts {
	c.Events = maps.Clone(c.Events)
	return c
}

// UserMinute remembers, for one user and window, the origin of the event that first made the user
// active (A) and a purchaser (P). Comparing an event's origin with them gives the same answer on
// every delivery, so a redelivered event sends the same note as the first time.
type UserMinute struct {
	A string `json:"a,omitempty"`
	P string `json:"p,omitempty"`
}

// User is a pseudonymous user's recent windows.
type User struct {
	Fence fence.Vector `json:"f,omitempty"`
	// MaxA and MaxP are the latest activity and purchase times of the user, Unix ms. A window's
	// activity origin is forgotten once it is older than MaxA − Retention (its purchase origin:
	// MaxP), and events for such windows are expired. Kept per input because the two inputs may
	// arrive far apart in event time (a clickstream replayed before the transactions).
	MaxA    int64                 `json:"ma"`
	MaxP    int64                 `json:"mp"`
	Windows map[int64]*UserMinute `json:"w,omitempty"`
}

// Part is one partition's open windows (package windows) plus its counters.
type Part struct {
	windows.State[Counts]
	Expired int64 `json:"expired"` // events older than the retention: dropped
}

// PartMinute is one partition's share of a closed window: its counts at close plus the late
// events that came after (fenced by origin).
type PartMinute struct {
	Closed bool         `json:"closed"`
	Base   Counts       `json:"base"`
	Late   Counts       `json:"late"`
	Fence  fence.Vector `json:"f,omitempty"`
}

// Sum is the partition's value for the window.
func (p *PartMinute) Sum() Counts {
	c := p.Base.clone()
	c.add(p.Late)
	return c
}

// Minute is a closed window: each partition's share, as it closed and as late events corrected it.
type Minute struct {
	Start int64                 `json:"start"`
	Parts map[int32]*PartMinute `json:"parts"`
}

// Value is the group table's value; exactly one field is set, according to the key's kind.
type Value struct {
	User   *User       `json:"user,omitempty"`
	Part   *Part       `json:"part,omitempty"`
	Minute *Minute     `json:"minute,omitempty"`
	Spikes *SpikeState `json:"spikes,omitempty"`
}

// ValueCodec encodes Value as JSON.
type ValueCodec struct{}

// Encode encodes a *Value.
func (ValueCodec) Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode value: %w", err)
	}
	return b, nil
}

// Decode decodes a *Value.
func (ValueCodec) Decode(b []byte) (any, error) {
	v := &Value{}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("realtime: decode value: %w", err)
	}
	return v, nil
}

// Note kinds carried on the loopback topic.
const (
	noteEvent  = "event"  // user stage → partition: one admitted event
	noteLate   = "late"   // partition → minute: a late event's contribution
	noteClose  = "close"  // partition → minute: a window closed with these counts
	noteClosed = "closed" // partition → spikes: the partition's closed frontier moved
)

// note is a loopback message between the stages of the processor.
type note struct {
	Kind   string `json:"k"`
	Origin string `json:"o,omitempty"`
	Input  string `json:"i,omitempty"` // inputActivity or inputPurchases
	Time   int64  `json:"t,omitempty"` // event time, Unix ms
	Type   string `json:"ty,omitempty"`
	User   string `json:"u,omitempty"` // pseudonym, for the late topic
	// NewActive / NewPurchaser: this event is the one that made the user count in its window.
	NewActive    bool   `json:"na,omitempty"`
	NewPurchaser bool   `json:"np,omitempty"`
	Expired      bool   `json:"x,omitempty"`
	Part         int32  `json:"p"`
	Parts        int    `json:"ps,omitempty"`
	Start        int64  `json:"s,omitempty"` // window start (late, close)
	Counts       Counts `json:"c,omitempty"`
	// Frontier: every window starting before it is closed in Part (closed).
	Frontier int64            `json:"f,omitempty"`
	Closed   map[int64]Counts `json:"cl,omitempty"` // windows closed by this move (closed)
}

// noteCodec encodes loopback notes as JSON.
type noteCodec struct{}

func (noteCodec) Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("realtime: encode note: %w", err)
	}
	return b, nil
}

func (noteCodec) Decode(b []byte) (any, error) {
	n := &note{}
	if err := json.Unmarshal(b, n); err != nil {
		return nil, fmt.Errorf("realtime: decode note: %w", err)
	}
	return n, nil
}

// LateEvent is a record of the late topic: an event that reached its partition after its window
// closed (still counted in Redis while within the retention), or after the retention (dropped).
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
