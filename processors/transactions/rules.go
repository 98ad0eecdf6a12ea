package transactions

import (
	"strconv"
	"time"

	"github.com/shopease/shopease/event"
)

// The event-time range a line must fall in: [MinTime, MaxTime) UTC. Anything outside is a clock or
// parsing fault at the source, never a real sale of this shop.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Rule is one validation rule: Fails reports whether line l breaks it and, if so, a detail for the
// dead letter. Details quote typed values only (numbers, times), never free text such as ids,
// because free text may hold a raw user id.
type Rule struct {
	Reason event.Reason
	Fails  func(l *event.TransactionLine) (detail string, failed bool)
}

// Rules are the gateway's validation rules in the order event/reasons.go lists them for
// transactions; the first rule that fails decides the reason. They are the only rules: the
// Online Retail acceptance test recounts exactly these over the raw files, so a rule added here
// must be added there too.
var Rules = []Rule{
	{event.ReasonMissingOrder, func(l *event.TransactionLine) (string, bool) {
		return "order_id is empty", l.OrderID == ""
	}},
	{event.ReasonMissingUser, func(l *event.TransactionLine) (string, bool) {
		return "user_id is empty", l.UserID == ""
	}},
	{event.ReasonMissingProduct, func(l *event.TransactionLine) (string, bool) {
		return "product_id is empty", l.ProductID == ""
	}},
	{event.ReasonBadType, func(l *event.TransactionLine) (string, bool) {
		// The value itself is not quoted: it is free text from the producer.
		return "type is not purchase, refund or return", !l.Type.Valid()
	}},
	{event.ReasonBadTime, func(l *event.TransactionLine) (string, bool) {
		if l.Time.Before(MinTime) || !l.Time.Before(MaxTime) {
			return "time " + l.Time.UTC().Format(time.RFC3339Nano) + " outside [2000-01-01, 2100-01-01) UTC", true
		}
		return "", false
	}},
	{event.ReasonBadQuantity, func(l *event.TransactionLine) (string, bool) {
		if l.Quantity <= 0 {
			return "quantity " + strconv.FormatInt(l.Quantity, 10) + " ≤ 0", true
		}
		if _, err := l.UnitPrice.Times(l.Quantity); err != nil {
			return "quantity " + strconv.FormatInt(l.Quantity, 10) + " × unit_price " + l.UnitPrice.String() + " overflows", true
		}
		return "", false
	}},
	{event.ReasonBadPrice, func(l *event.TransactionLine) (string, bool) {
		if l.UnitPrice <= 0 {
			return "unit_price " + l.UnitPrice.String() + " ≤ 0", true
		}
		return "", false
	}},
}

// Validate applies Rules in order and returns the reason and detail of the first that fails, or
// an empty reason for a valid line.
func Validate(l *event.TransactionLine) (event.Reason, string) {
	for _, r := range Rules {
		if detail, failed := r.Fails(l); failed {
			return r.Reason, detail
		}
	}
	return "", ""
}
