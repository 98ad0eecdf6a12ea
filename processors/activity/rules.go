package activity

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// The event-time window the gateway accepts: [MinTime, MaxTime) UTC. Anything outside is a clock
// or mapping error (a year 1970 epoch default, a two-digit year), not a real ShopEase event.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// rule is one validation rule: fails returns a detail text when the record breaks it. Details
// never contain a user id or free text, only field names and typed values.
type rule struct {
	reason event.Reason
	fails  func(a *event.Activity) (detail string, failed bool)
}

// rules are the activity rules in the order event/reasons.go lists them; the first failing one
// decides the reason. This is the only place the gateway's rules live.
var rules = []rule{
	{event.ReasonMissingUser, func(a *event.Activity) (string, bool) {
		return "empty user_id", a.UserID == ""
	}},
	{event.ReasonMissingProduct, func(a *event.Activity) (string, bool) {
		return string(a.Type) + " without product_id", namesProduct(a.Type) && a.ProductID == ""
	}},
	{event.ReasonBadType, func(a *event.Activity) (string, bool) {
		return "unknown type " + clip(string(a.Type)), !a.Type.Valid()
	}},
	{event.ReasonBadTime, func(a *event.Activity) (string, bool) {
		return "time " + a.Time.UTC().Format(time.RFC3339) + " outside [2000-01-01, 2100-01-01)",
			a.Time.Before(MinTime) || !a.Time.Before(MaxTime)
	}},
}

// namesProduct reports whether events of type t are about one product and so need its id.
func namesProduct(t event.ActivityType) bool {
	return t == event.ProductView || t == event.AddToCart || t == event.RemoveFromCart
}

// Check applies the rules in order and returns the reason and detail of the first that fails, or
// an empty reason when a passes them all.
func Check(a *event.Activity) (event.Reason, string) {
	for _, r := range rules {
		if detail, failed := r.fails(a); failed {
			return r.reason, detail
		}
	}
	return "", ""
}

// Decode reads a raw activity record strictly (codecs.DecodeActivity), except that a type value
// outside event.ActivityTypes is kept in Type instead of failing, so that Check can reject the
// record as bad_type after the rules before it. Any other decode failure is returned unchanged
// (the record is undecodable).
func Decode(b []byte) (*event.Activity, error) {
	a, err := codecs.DecodeActivity(b)
	if err == nil {
		return a, nil
	}
	var fe *codecs.FieldError
	if !errors.As(err, &fe) || fe.Field != "type" || !errors.Is(err, codecs.ErrBadValue) {
		return nil, err
	}
	typ, end, ok := stringAt(b, fe.Offset)
	if !ok {
		return nil, err
	}
	// Set the unknown value aside by putting a known one in its place, so that the strict
	// decoder still checks every other field of the record.
	spliced := make([]byte, 0, len(b)+len(event.PageView))
	spliced = append(spliced, b[:fe.Offset]...)
	spliced = append(spliced, `"`+string(event.PageView)+`"`...)
	spliced = append(spliced, b[end:]...)
	a, err2 := codecs.DecodeActivity(spliced)
	if err2 != nil {
		return nil, fmt.Errorf("activity: %w (and %w)", err, err2)
	}
	a.Type = event.ActivityType(typ)
	return a, nil
}

// stringAt returns the JSON string that starts at b[at] and the index just past its closing quote.
func stringAt(b []byte, at int) (s string, end int, ok bool) {
	if at < 0 || at >= len(b) || b[at] != '"' {
		return "", 0, false
	}
	for i := at + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			if json.Unmarshal(b[at:i+1], &s) != nil {
				return "", 0, false
			}
			return s, i + 1, true
		}
	}
	return "", 0, false
}

// maxQuote is how much of a typed value a detail text quotes, as codecs' errors do.
const maxQuote = 24

func clip(s string) string {
	if len(s) > maxQuote {
		return fmt.Sprintf("%q...", s[:maxQuote])
	}
	return fmt.Sprintf("%q", s)
}
