package journeys

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/shopease/shopease/event"
)

// Journey is the record emitted to shopease.journeys for one purchase (one order of one user):
// the session that led to it and what the user did in it. Its identity is (UserID, OrderID):
// a consumer that sees a journey twice (a re-emission after a crash) keeps one.
type Journey struct {
	UserID       string    `json:"user_id"` // pseudonym
	OrderID      string    `json:"order_id"`
	PurchaseTime time.Time `json:"purchase_time"`
	// SessionID is the source's session id when the session's events carry one.
	SessionID string `json:"session_id,omitempty"`
	// SessionStart is the time of the session's first event; zero when no activity preceded the
	// purchase within SessionGap (then every count below is 0).
	SessionStart time.Time `json:"session_start,omitempty"`
	// SessionSeconds is the purchase time minus SessionStart.
	SessionSeconds int64 `json:"session_seconds"`
	Events         int64 `json:"events"`
	PageViews      int64 `json:"page_views"`
	ProductViews   int64 `json:"product_views"`
	CartAdds       int64 `json:"cart_adds"`
	// Viewed are the distinct products viewed in the session, Bought those of the order;
	// ViewedThenBought counts the products in both.
	Viewed           []string `json:"viewed,omitempty"`
	Bought           []string `json:"bought"`
	ViewedThenBought int64    `json:"viewed_then_bought"`
	// SecondsToPurchase is the time from the session's first product view to the purchase; nil
	// without a product view.
	SecondsToPurchase *int64 `json:"seconds_to_purchase,omitempty"`
	// EntryReferrer is the referrer of the session's first event.
	EntryReferrer string      `json:"entry_referrer,omitempty"`
	Lines         int64       `json:"lines"`
	Units         int64       `json:"units"`
	Amount        event.Money `json:"amount"`
}

// journey builds the journey of purchase p from the user's activity.
//
// The session is found backwards from the purchase time T: the last event at or before T starts
// it, if it is within SessionGap of T. When that event has a session id, the session is every
// event at or before T with the same id; otherwise it is the run of events going back from it
// with no gap above SessionGap. Only the events of [T - Keep, T] count: the user may keep older
// ones or not, depending on when the flush came (see prune).
func (u *User) journey(user string, p *Purchase) Journey {
	j := Journey{UserID: user, OrderID: p.OrderID, PurchaseTime: p.At, Bought: slices.Clone(p.Products),
		Lines: p.Lines, Units: p.Units, Amount: p.Amount}
	from := p.At.Add(-Keep)
	lo := sort.Search(len(u.Events), func(i int) bool { return !u.Events[i].At.Before(from) })
	last := lo - 1
	for i := lo; i < len(u.Events) && !u.Events[i].At.After(p.At); i++ {
		last = i
	}
	if last < lo || p.At.Sub(u.Events[last].At) > SessionGap {
		return j
	}
	var session []Event
	if sid := u.Events[last].SessionID; sid != "" {
		j.SessionID = sid
		for _, e := range u.Events[lo : last+1] {
			if e.SessionID == sid {
				session = append(session, e)
			}
		}
	} else {
		first := last
		for first > lo && u.Events[first].At.Sub(u.Events[first-1].At) <= SessionGap {
			first--
		}
		session = u.Events[first : last+1]
	}
	j.SessionStart = session[0].At
	j.SessionSeconds = int64(p.At.Sub(j.SessionStart) / time.Second)
	j.EntryReferrer = session[0].Referrer
	for _, e := range session {
		j.Events++
		switch e.Type {
		case event.PageView:
			j.PageViews++
		case event.ProductView:
			j.ProductViews++
			if j.SecondsToPurchase == nil {
				s := int64(p.At.Sub(e.At) / time.Second)
				j.SecondsToPurchase = &s
			}
			if e.ProductID != "" && !slices.Contains(j.Viewed, e.ProductID) {
				j.Viewed = append(j.Viewed, e.ProductID)
			}
		case event.AddToCart:
			j.CartAdds++
		}
	}
	slices.Sort(j.Viewed)
	for _, v := range j.Viewed {
		if slices.Contains(j.Bought, v) {
			j.ViewedThenBought++
		}
	}
	return j
}

// JourneyCodec is the goka codec of shopease.journeys (JSON, money as decimal strings).
type JourneyCodec struct{}

// Encode encodes a *Journey or Journey.
func (JourneyCodec) Encode(v any) ([]byte, error) {
	switch j := v.(type) {
	case *Journey:
		if j != nil {
			return json.Marshal(j)
		}
	case Journey:
		return json.Marshal(&j)
	}
	return nil, fmt.Errorf("%w: %T", ErrCodec, v)
}

// Decode decodes a *Journey.
func (JourneyCodec) Decode(b []byte) (any, error) {
	j := &Journey{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("journeys: decode journey: %w", err)
	}
	return j, nil
}

// UserCodec is the goka codec of the journeys table: the binary form of binary.go; a value whose
// first byte is '{' is read as JSON (values written before). `shopease inspect` prints the decoded
// *User as JSON.
type UserCodec struct{}

// Encode encodes a *User.
func (UserCodec) Encode(v any) ([]byte, error) {
	u, ok := v.(*User)
	if !ok || u == nil {
		return nil, fmt.Errorf("%w: %T", ErrCodec, v)
	}
	return encodeUser(u), nil
}

// Decode decodes a *User.
func (UserCodec) Decode(b []byte) (any, error) {
	switch {
	case len(b) > 0 && b[0] == '{':
		u := &User{}
		if err := json.Unmarshal(b, u); err != nil {
			return nil, fmt.Errorf("journeys: decode user: %w", err)
		}
		return u, nil
	case len(b) > 0 && b[0] == binUser:
		return decodeUser(b)
	}
	return nil, fmt.Errorf("journeys: decode user (%d bytes, neither JSON nor binary): %w", len(b), ErrBinary)
}
