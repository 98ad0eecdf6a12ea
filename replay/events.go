package replay

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// Slots of each dataset's fields, in the order of dataset.fields.
const (
	txLineID = iota
	txOrderID
	txType
	txUserID
	txProductID
	txDescription
	txQuantity
	txUnitPrice
	txCurrency
	txCountry
	txTime
)

const (
	invEventID = iota
	invType
	invSKU
	invName
	invCategory
	invPrice
	invCost
	invQuantity
	invTime
)

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

const (
	revReviewID = iota
	revUserID
	revProductID
	revRating
	revTitle
	revText
	revTime
)

// transaction maps a transaction line. The quantity, unit price and time must parse (bad_field);
// everything the gateway judges (empty user, price ≤ 0, quantity ≤ 0, unknown type) is kept as
// it is, because replay only maps.
func (f *fileMapper) transaction(v []string, source string) (record, *rejection) {
	// The ordinal is counted before any field is checked, so that it depends on the file's
	// content alone and never on which rows happen to be rejected.
	if rule := f.m.LineID; rule != nil {
		within := v[f.slot[rule.OrdinalWithin]]
		f.ordinals[within]++
		v[txLineID] = within + "-" + strconv.FormatInt(f.ordinals[within], 10)
	}
	qty, err := strconv.ParseInt(strings.TrimSpace(v[txQuantity]), 10, 64)
	if err != nil {
		return record{}, &rejection{event.ReasonBadField, fmt.Sprintf("quantity %q: not an integer", clip(v[txQuantity]))}
	}
	price, err := event.ParseMoney(strings.TrimSpace(v[txUnitPrice]))
	if err != nil {
		return record{}, &rejection{event.ReasonBadField, fmt.Sprintf("unit_price %q: %s", clip(v[txUnitPrice]), err)}
	}
	t, rej := f.parseTime(v[txTime])
	if rej != nil {
		return record{}, rej
	}
	typ := v[txType]
	if rules := f.m.Type; rules != nil {
		if typ == "" {
			typ = rules.Default
		}
		for _, r := range rules.Rules {
			if strings.HasPrefix(v[f.slot[r.Field]], r.Prefix) {
				typ = r.Type
				if r.NegateQuantity {
					qty = -qty
				}
				break
			}
		}
	}
	l := event.TransactionLine{
		LineID: v[txLineID], OrderID: v[txOrderID], Type: event.TxType(typ), UserID: v[txUserID],
		ProductID: v[txProductID], Description: v[txDescription], Quantity: qty, UnitPrice: price,
		Currency: v[txCurrency], Country: v[txCountry], Time: t, Source: source,
	}
	b, err := codecs.TransactionLine{}.Encode(&l) // sized once, unlike Append to nil
	return f.encoded(v, b, t, err)
}

// inventory maps an inventory update; price, cost and quantity stay text, as received.
func (f *fileMapper) inventory(v []string, source string) (record, *rejection) {
	t, rej := f.parseTime(v[invTime])
	if rej != nil {
		return record{}, rej
	}
	u := event.InventoryUpdate{
		EventID: v[invEventID], Type: event.InventoryType(v[invType]), SKU: v[invSKU], Name: v[invName],
		Category: v[invCategory], Price: v[invPrice], Cost: v[invCost], Quantity: v[invQuantity],
		Time: t, Source: source,
	}
	b, err := codecs.InventoryUpdate{}.Encode(&u)
	return f.encoded(v, b, t, err)
}

func (f *fileMapper) activity(v []string) (record, *rejection) {
	t, rej := f.parseTime(v[actTime])
	if rej != nil {
		return record{}, rej
	}
	a := event.Activity{
		EventID: v[actEventID], UserID: v[actUserID], SessionID: v[actSessionID],
		Type: event.ActivityType(v[actType]), ProductID: v[actProductID], Page: v[actPage],
		Referrer: v[actReferrer], Query: v[actQuery], Time: t,
	}
	b, err := codecs.Activity{}.Encode(&a)
	return f.encoded(v, b, t, err)
}

// review maps a review; an empty rating is 0 (the gateway rejects it as bad_rating).
func (f *fileMapper) review(v []string, source string) (record, *rejection) {
	rating := 0
	if s := strings.TrimSpace(v[revRating]); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return record{}, &rejection{event.ReasonBadField, fmt.Sprintf("rating %q: not an integer", clip(s))}
		}
		rating = n
	}
	t, rej := f.parseTime(v[revTime])
	if rej != nil {
		return record{}, rej
	}
	r := event.Review{
		ReviewID: v[revReviewID], UserID: v[revUserID], ProductID: v[revProductID], Rating: rating,
		Title: v[revTitle], Text: v[revText], Time: t, Source: source,
	}
	b, err := codecs.Review{}.Encode(&r)
	return f.encoded(v, b, t, err)
}

// encoded finishes a mapped record. A value the codec refuses (an unknown type value, a time
// outside years 1..9999) could not be read back from the topic, so it is a bad_field here.
func (f *fileMapper) encoded(v []string, b []byte, t time.Time, err error) (record, *rejection) {
	if err != nil {
		return record{}, codecRejection(err)
	}
	return record{key: []byte(v[f.key]), value: b, time: t}, nil
}

// direct decodes a JSON row of the shopease profile straight into its event with the strict
// codec, then re-encodes it in the canonical wire form (times in UTC, Source set).
func (f *fileMapper) direct(raw []byte, source string) (record, *rejection) {
	var (
		b   []byte
		t   time.Time
		key string
		err error
	)
	switch f.ds {
	case dsActivity:
		var a event.Activity
		if err = codecs.DecodeActivityInto(raw, &a); err == nil {
			t, key = a.Time.UTC(), a.UserID
			b, err = codecs.Activity{}.Encode(&a)
		}
	case dsFeedback:
		var r event.Review
		if err = codecs.DecodeReviewInto(raw, &r); err == nil {
			r.Source = source
			t, key = r.Time.UTC(), r.ReviewID
			b, err = codecs.Review{}.Encode(&r)
		}
	case dsTransactions:
		var l event.TransactionLine
		if err = codecs.DecodeTransactionLineInto(raw, &l); err == nil {
			l.Source = source
			t, key = l.Time.UTC(), l.LineID
			b, err = codecs.TransactionLine{}.Encode(&l)
		}
	case dsInventory:
		var u event.InventoryUpdate
		if err = codecs.DecodeInventoryUpdateInto(raw, &u); err == nil {
			u.Source = source
			t, key = u.Time.UTC(), u.SKU
			b, err = codecs.InventoryUpdate{}.Encode(&u)
		}
	}
	if err != nil {
		return record{}, codecRejection(err)
	}
	return record{key: []byte(key), value: b, time: t}, nil
}

// codecRejection chooses the reason for a row the strict codec refuses: malformed for JSON that
// is not one object; bad_type for a type value outside the event model's (the raw topics' codec
// cannot carry it, so the gateway never sees it: replay rejects it with the gateway's reason);
// bad_field for anything else.
func codecRejection(err error) *rejection {
	var fe *codecs.FieldError
	switch {
	case errors.Is(err, codecs.ErrSyntax):
		return &rejection{event.ReasonMalformed, err.Error()}
	case errors.As(err, &fe) && fe.Field == "type" && errors.Is(err, codecs.ErrBadValue):
		return &rejection{event.ReasonBadType, err.Error()}
	}
	return &rejection{event.ReasonBadField, err.Error()}
}
