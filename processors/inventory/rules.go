package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// The event-time window the gateway accepts: [MinTime, MaxTime) UTC, as for every dataset.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// rule is one validation rule over the raw update and its standardized record (filled by the
// rules before it); fails returns a detail text when the record breaks it. Details name fields
// and quote short typed values only, never names or other free text.
type rule struct {
	reason event.Reason
	fails  func(u *event.InventoryUpdate, r *event.InventoryRecord) (detail string, failed bool)
}

// rules are the inventory rules in the order event/reasons.go lists them; the first failing one
// decides the reason. Each one also standardizes the field it checks into r.
var rules = []rule{
	{event.ReasonMissingSKU, func(u *event.InventoryUpdate, r *event.InventoryRecord) (string, bool) {
		r.SKU = StandardSKU(u.SKU)
		return "sku empty after standardization", r.SKU == ""
	}},
	{event.ReasonBadType, func(u *event.InventoryUpdate, r *event.InventoryRecord) (string, bool) {
		r.Type = StandardType(string(u.Type))
		return "unknown type " + clip(string(u.Type)), !r.Type.Valid()
	}},
	{event.ReasonBadTime, func(u *event.InventoryUpdate, r *event.InventoryRecord) (string, bool) {
		r.Time = u.Time.UTC()
		return "time " + r.Time.Format(time.RFC3339) + " outside [2000-01-01, 2100-01-01)",
			r.Time.Before(MinTime) || !r.Time.Before(MaxTime)
	}},
	{event.ReasonBadQuantity, func(u *event.InventoryUpdate, r *event.InventoryRecord) (string, bool) {
		if r.Type == event.ProductInfo {
			return "", false // a product_info moves no stock; its quantity is not read
		}
		n, err := StandardUnits(u.Quantity)
		switch {
		case err != nil:
			return "quantity " + clip(u.Quantity) + " is not a whole number of units", true
		case n < 0:
			return "negative quantity " + strconv.FormatInt(n, 10), true
		case n > MaxUnits:
			return "quantity " + strconv.FormatInt(n, 10) + " above " + strconv.Itoa(MaxUnits), true
		}
		r.Units = n
		return "", false
	}},
	{event.ReasonBadPrice, func(u *event.InventoryUpdate, r *event.InventoryRecord) (string, bool) {
		var detail string
		r.Price, detail = amount("price", u.Price)
		if detail != "" {
			return detail, true
		}
		r.Cost, detail = amount("cost", u.Cost)
		return detail, detail != ""
	}},
}

// amount standardizes an optional price or cost: nil when the text is blank, else the amount, or
// a detail text when it does not parse or is negative.
func amount(field, text string) (*event.Money, string) {
	if strings.TrimSpace(text) == "" {
		return nil, ""
	}
	m, err := StandardMoney(text)
	switch {
	case err != nil:
		return nil, field + " " + clip(text) + " is not an amount"
	case m < 0:
		return nil, "negative " + field + " " + m.String()
	}
	return &m, ""
}

// Standardize applies the rules in order to a raw update. It returns the clean record, or the
// reason and detail of the first rule that fails.
func Standardize(u *event.InventoryUpdate) (*event.InventoryRecord, event.Reason, string) {
	r := &event.InventoryRecord{
		EventID:  u.EventID,
		Name:     StandardName(u.Name),
		Category: StandardCategory(u.Category),
		Source:   u.Source,
	}
	for _, rl := range rules {
		if detail, failed := rl.fails(u, r); failed {
			return nil, rl.reason, detail
		}
	}
	return r, "", ""
}

// Decode reads a raw inventory record strictly (codecs.DecodeInventoryUpdate), except that a type
// value outside event.InventoryTypes is kept in Type instead of failing, so that Standardize can
// standardize it ("Stock Report") or reject it as bad_type after the rules before it. Any other
// decode failure is returned unchanged (the record is undecodable).
func Decode(b []byte) (*event.InventoryUpdate, error) {
	u, err := codecs.DecodeInventoryUpdate(b)
	if err == nil {
		return u, nil
	}
	var fe *codecs.FieldError
	if !errors.As(err, &fe) || fe.Field != "type" || !errors.Is(err, codecs.ErrBadValue) {
		return nil, err
	}
	typ, end, ok := stringAt(b, fe.Offset)
	if !ok {
		return nil, err
	}
	// Set the unknown value aside by putting a known one in its place, so that the strict decoder
	// still checks every other field of the record.
	spliced := make([]byte, 0, len(b)+len(event.ProductInfo))
	spliced = append(spliced, b[:fe.Offset]...)
	spliced = append(spliced, `"`+string(event.ProductInfo)+`"`...)
	spliced = append(spliced, b[end:]...)
	u, err2 := codecs.DecodeInventoryUpdate(spliced)
	if err2 != nil {
		return nil, fmt.Errorf("inventory: %w (and %w)", err, err2)
	}
	u.Type = event.InventoryType(typ)
	return u, nil
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
		return strconv.Quote(s[:maxQuote]) + "..."
	}
	return strconv.Quote(s)
}
