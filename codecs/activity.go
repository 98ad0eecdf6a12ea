package codecs

import "github.com/shopease/shopease/event"

// Activity is the goka codec of event.Activity. Encode takes an event.Activity or a non-nil
// *event.Activity; Decode returns a *event.Activity.
type Activity struct{}

// Encode encodes an event.Activity or *event.Activity as JSON.
func (Activity) Encode(value any) ([]byte, error) {
	return encodeAny("Activity", value, activitySize, AppendActivity)
}

// Decode decodes JSON into a *event.Activity.
func (Activity) Decode(data []byte) (any, error) { return decodeAny(data, DecodeActivity) }

// The JSON fields of Activity, in struct order; the constants are their indexes.
const (
	actEventID = iota
	actUserID
	actSessionID
	actType
	actProductID
	actPage
	actReferrer
	actQuery
	actTime
)

var activityFields = newFieldSet("Activity",
	[]string{"event_id", "user_id", "session_id", "type", "product_id", "page", "referrer", "query", "time"},
	"event_id", "type", "time")

// DecodeActivity decodes one Activity strictly (see the package doc).
func DecodeActivity(data []byte) (*event.Activity, error) {
	a := new(event.Activity)
	if err := DecodeActivityInto(data, a); err != nil {
		return nil, err
	}
	return a, nil
}

// DecodeActivityInto decodes into *a, reusing it; on error *a holds an unspecified partial value.
func DecodeActivityInto(data []byte, a *event.Activity) error {
	*a = event.Activity{}
	var r reader
	r.init(data, activityFields)
	if err := r.open(); err != nil {
		return err
	}
	for {
		f, err := r.next()
		if err != nil {
			return err
		}
		switch f {
		case fieldEnd:
			return r.finish()
		case actEventID:
			a.EventID, err = r.str()
		case actUserID:
			a.UserID, err = r.str()
		case actSessionID:
			a.SessionID, err = r.str()
		case actType:
			a.Type, err = r.activityType()
		case actProductID:
			a.ProductID, err = r.str()
		case actPage:
			a.Page, err = r.str()
		case actReferrer:
			a.Referrer, err = r.str()
		case actQuery:
			a.Query, err = r.str()
		case actTime:
			a.Time, err = r.timeValue()
		}
		if err != nil {
			return err
		}
	}
}

// activityType reads a known ActivityType, returning the package constant so that the decoded
// record does not keep the input alive through its type.
func (r *reader) activityType() (event.ActivityType, error) {
	at := r.pos
	s, err := r.str()
	if err != nil {
		return "", err
	}
	for _, t := range event.ActivityTypes {
		if string(t) == s {
			return t, nil
		}
	}
	r.pos = at
	return "", r.fail(ErrBadValue, "unknown type "+quote(s))
}

// AppendActivity appends the JSON form of *a to dst. On error it returns dst unchanged and a
// *FieldError naming the field that would not decode.
func AppendActivity(dst []byte, a *event.Activity) ([]byte, error) {
	if !a.Type.Valid() {
		return dst, encodeError("Activity", "type", "unknown type "+quote(string(a.Type)))
	}
	w := writer{buf: dst, typ: "Activity"}
	w.str(`{"event_id":`, a.EventID)
	w.str(`,"user_id":`, a.UserID)
	w.optStr(`,"session_id":`, a.SessionID)
	w.raw(`,"type":"`, string(a.Type), `"`)
	w.optStr(`,"product_id":`, a.ProductID)
	w.optStr(`,"page":`, a.Page)
	w.optStr(`,"referrer":`, a.Referrer)
	w.optStr(`,"query":`, a.Query)
	w.time(`,"time":`, a.Time)
	return w.end(dst)
}

// activitySize estimates the encoded size of *a so that Encode allocates once.
func activitySize(a *event.Activity) int {
	return 160 + len(a.EventID) + len(a.UserID) + len(a.SessionID) + len(a.ProductID) + len(a.Page) +
		len(a.Referrer) + len(a.Query)
}
