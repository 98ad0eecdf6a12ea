package generate

import (
	"math/rand/v2"

	"github.com/shopease/shopease/event"
)

// defect is the one thing wrong with a generated record (or defectNone).
type defect uint8

const (
	defectNone defect = iota
	defectMissingUser
	defectBadPrice
	defectBadQuantity
	defectMissingProduct
	defectBadType       // replay (the codec refuses it), reason bad_type
	defectMalformed     // replay: wrong field count, truncated JSON
	defectBadField      // replay: a typed field that does not parse
	defectBadRating     // feedback
	defectNegativeStock // inventory stock_report with negative units
)

// outcome says what the pipeline does with a record that has defect d.
type outcome uint8

const (
	accepted    outcome = iota
	unparseable         // replay rejects the row: it never reaches a raw topic
	rejected            // a gateway rejects the record
)

// fate returns the outcome and reason code of a record with defect d.
func (d defect) fate() (outcome, event.Reason) {
	switch d {
	case defectNone:
		return accepted, ""
	case defectMissingUser:
		return rejected, event.ReasonMissingUser
	case defectBadPrice:
		return rejected, event.ReasonBadPrice
	case defectBadQuantity, defectNegativeStock:
		return rejected, event.ReasonBadQuantity
	case defectMissingProduct:
		return rejected, event.ReasonMissingProduct
	case defectBadType:
		// The raw topics' strict codec cannot carry a type outside the event model, so replay
		// rejects the row itself, with the gateway's reason (replay/events.go, codecRejection).
		return unparseable, event.ReasonBadType
	case defectMalformed:
		return unparseable, event.ReasonMalformed
	case defectBadField:
		return unparseable, event.ReasonBadField
	case defectBadRating:
		return rejected, event.ReasonBadRating
	}
	panic("generate: unknown defect")
}

// choice pairs a defect with its rate.
type choice struct {
	d    defect
	rate float64
}

// draw picks at most one defect: one uniform draw walked along the cumulative rates, so a record
// never carries two defects and its reason is unambiguous.
func draw(r *rand.Rand, choices []choice) defect {
	x := r.Float64()
	for _, c := range choices {
		if x < c.rate {
			return c.d
		}
		x -= c.rate
	}
	return defectNone
}

func (r *Rates) txChoices() []choice {
	return []choice{
		{defectMissingUser, r.TxMissingUser}, {defectBadPrice, r.TxBadPrice},
		{defectBadQuantity, r.TxBadQuantity}, {defectMissingProduct, r.TxMissingProduct},
		{defectBadType, r.TxBadType}, {defectMalformed, r.TxMalformed}, {defectBadField, r.TxBadField},
	}
}

// actChoices leaves truncation out for JSON-array files: a cut inside an array would lose the rest
// of the file, so arrays are only cut at their end (Rates.ActTruncatedFile).
func (r *Rates) actChoices(form Form) []choice {
	c := []choice{{defectMissingUser, r.ActMissingUser}, {defectBadType, r.ActBadType}}
	if form == FormNDJSON {
		c = append(c, choice{defectMalformed, r.ActTruncated})
	}
	return c
}

func (r *Rates) fbChoices() []choice {
	return []choice{{defectBadRating, r.FbBadRating}, {defectMissingUser, r.FbMissingUser}}
}

// counts tallies records by outcome and reason for one dataset.
type counts struct {
	rows        int64
	unparseable map[event.Reason]int64
	rejected    map[event.Reason]int64
	duplicates  int64
	accepted    int64
	byType      map[string]int64 // accepted records per type
}

func newCounts() *counts {
	return &counts{unparseable: map[event.Reason]int64{}, rejected: map[event.Reason]int64{}, byType: map[string]int64{}}
}

// add counts one written row; typ is the record's type for accepted rows.
func (c *counts) add(d defect, dup bool, typ string) {
	c.rows++
	if dup {
		c.duplicates++
		return
	}
	switch o, reason := d.fate(); o {
	case accepted:
		c.accepted++
		c.byType[typ]++
	case unparseable:
		c.unparseable[reason]++
	case rejected:
		c.rejected[reason]++
	}
}

func (c *counts) merge(o *counts) {
	c.rows += o.rows
	c.duplicates += o.duplicates
	c.accepted += o.accepted
	for k, v := range o.unparseable {
		c.unparseable[k] += v
	}
	for k, v := range o.rejected {
		c.rejected[k] += v
	}
	for k, v := range o.byType {
		c.byType[k] += v
	}
}
