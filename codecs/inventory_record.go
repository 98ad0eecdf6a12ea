package codecs

import "github.com/shopease/shopease/event"

// InventoryRecord is the goka codec of event.InventoryRecord, the standardized inventory update
// on shopease.clean.inventory. Encode takes an event.InventoryRecord or a non-nil
// *event.InventoryRecord; Decode returns a *event.InventoryRecord.
//
// Besides the package's strict rules, a clean record must be clean: units, price and cost are
// never negative and the type is known, on input and on output.
type InventoryRecord struct{}

// Encode encodes an event.InventoryRecord or *event.InventoryRecord as JSON.
func (InventoryRecord) Encode(value any) ([]byte, error) {
	return encodeAny("InventoryRecord", value, inventoryRecordSize, AppendInventoryRecord)
}

// Decode decodes JSON into a *event.InventoryRecord.
func (InventoryRecord) Decode(data []byte) (any, error) {
	return decodeAny(data, DecodeInventoryRecord)
}

// The JSON fields of InventoryRecord, in struct order; the constants are their indexes.
const (
	irEventID = iota
	irType
	irSKU
	irName
	irCategory
	irPrice
	irCost
	irUnits
	irTime
	irSource
)

var inventoryRecordFields = newFieldSet("InventoryRecord",
	[]string{"event_id", "type", "sku", "name", "category", "price", "cost", "units", "time", "source"},
	"event_id", "type", "sku", "time")

// DecodeInventoryRecord decodes one InventoryRecord strictly (see the package doc); a negative
// units, price or cost is ErrBadValue.
func DecodeInventoryRecord(data []byte) (*event.InventoryRecord, error) {
	u := new(event.InventoryRecord)
	if err := DecodeInventoryRecordInto(data, u); err != nil {
		return nil, err
	}
	return u, nil
}

// DecodeInventoryRecordInto decodes into *u, reusing it; on error *u holds an unspecified partial
// value.
func DecodeInventoryRecordInto(data []byte, u *event.InventoryRecord) error {
	*u = event.InventoryRecord{}
	var r reader
	r.init(data, inventoryRecordFields)
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
		case irEventID:
			u.EventID, err = r.str()
		case irType:
			u.Type, err = r.inventoryType()
		case irSKU:
			u.SKU, err = r.str()
		case irName:
			u.Name, err = r.str()
		case irCategory:
			u.Category, err = r.str()
		case irPrice:
			u.Price, err = r.cleanMoney()
		case irCost:
			u.Cost, err = r.cleanMoney()
		case irUnits:
			at := r.pos
			u.Units, err = r.int64Value(64)
			if err == nil && u.Units < 0 {
				r.pos = at
				err = r.fail(ErrBadValue, "negative units")
			}
		case irTime:
			u.Time, err = r.timeValue()
		case irSource:
			u.Source, err = r.str()
		}
		if err != nil {
			return err
		}
	}
}

// cleanMoney reads a money value that a clean record may hold: a JSON string (as the encoder
// writes it) with an amount that is not negative.
func (r *reader) cleanMoney() (*event.Money, error) {
	at := r.pos
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return nil, r.wrongType("money string")
	}
	m, err := r.money()
	if err != nil {
		return nil, err
	}
	if m < 0 {
		r.pos = at
		return nil, r.fail(ErrBadValue, "negative amount")
	}
	return &m, nil
}

// AppendInventoryRecord appends the JSON form of *u to dst. On error it returns dst unchanged and
// a *FieldError naming the field that would not decode.
func AppendInventoryRecord(dst []byte, u *event.InventoryRecord) ([]byte, error) {
	const typ = "InventoryRecord"
	switch {
	case !u.Type.Valid():
		return dst, encodeError(typ, "type", "unknown type "+quote(string(u.Type)))
	case u.Units < 0:
		return dst, encodeError(typ, "units", "negative units")
	case u.Price != nil && *u.Price < 0:
		return dst, encodeError(typ, "price", "negative amount")
	case u.Cost != nil && *u.Cost < 0:
		return dst, encodeError(typ, "cost", "negative amount")
	}
	w := writer{buf: dst, typ: typ}
	w.str(`{"event_id":`, u.EventID)
	w.raw(`,"type":"`, string(u.Type), `"`)
	w.str(`,"sku":`, u.SKU)
	w.optStr(`,"name":`, u.Name)
	w.optStr(`,"category":`, u.Category)
	if u.Price != nil {
		w.money(`,"price":`, *u.Price)
	}
	if u.Cost != nil {
		w.money(`,"cost":`, *u.Cost)
	}
	w.int(`,"units":`, u.Units)
	w.time(`,"time":`, u.Time)
	w.optStr(`,"source":`, u.Source)
	return w.end(dst)
}

// inventoryRecordSize estimates the encoded size of *u so that Encode allocates once.
func inventoryRecordSize(u *event.InventoryRecord) int {
	return 200 + len(u.EventID) + len(u.SKU) + len(u.Name) + len(u.Category) + len(u.Source)
}
