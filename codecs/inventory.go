package codecs

import "github.com/shopease/shopease/event"

// InventoryUpdate is the goka codec of event.InventoryUpdate. Encode takes an
// event.InventoryUpdate or a non-nil *event.InventoryUpdate; Decode returns a
// *event.InventoryUpdate.
type InventoryUpdate struct{}

// Encode encodes an event.InventoryUpdate or *event.InventoryUpdate as JSON.
func (InventoryUpdate) Encode(value any) ([]byte, error) {
	return encodeAny("InventoryUpdate", value, inventoryUpdateSize, AppendInventoryUpdate)
}

// Decode decodes JSON into a *event.InventoryUpdate.
func (InventoryUpdate) Decode(data []byte) (any, error) {
	return decodeAny(data, DecodeInventoryUpdate)
}

// The JSON fields of InventoryUpdate, in struct order; the constants are their indexes.
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
	invSource
)

var inventoryUpdateFields = newFieldSet("InventoryUpdate",
	[]string{"event_id", "type", "sku", "name", "category", "price", "cost", "quantity", "time", "source"},
	"event_id", "type", "sku", "time")

// DecodeInventoryUpdate decodes one InventoryUpdate strictly (see the package doc). Price, cost
// and quantity are JSON strings kept as received ("$1,299.00", "12 pcs"): standardizing them is
// the inventory processor's job, so a JSON number there is a wrong type.
func DecodeInventoryUpdate(data []byte) (*event.InventoryUpdate, error) {
	u := new(event.InventoryUpdate)
	if err := DecodeInventoryUpdateInto(data, u); err != nil {
		return nil, err
	}
	return u, nil
}

// DecodeInventoryUpdateInto decodes into *u, reusing it; on error *u holds an unspecified partial
// value.
func DecodeInventoryUpdateInto(data []byte, u *event.InventoryUpdate) error {
	*u = event.InventoryUpdate{}
	var r reader
	r.init(data, inventoryUpdateFields)
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
		case invEventID:
			u.EventID, err = r.str()
		case invType:
			u.Type, err = r.inventoryType()
		case invSKU:
			u.SKU, err = r.str()
		case invName:
			u.Name, err = r.str()
		case invCategory:
			u.Category, err = r.str()
		case invPrice:
			u.Price, err = r.str()
		case invCost:
			u.Cost, err = r.str()
		case invQuantity:
			u.Quantity, err = r.str()
		case invTime:
			u.Time, err = r.timeValue()
		case invSource:
			u.Source, err = r.str()
		}
		if err != nil {
			return err
		}
	}
}

// inventoryType reads a known InventoryType as the package constant.
func (r *reader) inventoryType() (event.InventoryType, error) {
	at := r.pos
	s, err := r.str()
	if err != nil {
		return "", err
	}
	for _, t := range event.InventoryTypes {
		if string(t) == s {
			return t, nil
		}
	}
	r.pos = at
	return "", r.fail(ErrBadValue, "unknown type "+quote(s))
}

// AppendInventoryUpdate appends the JSON form of *u to dst. On error it returns dst unchanged and
// a *FieldError naming the field that would not decode.
func AppendInventoryUpdate(dst []byte, u *event.InventoryUpdate) ([]byte, error) {
	if !u.Type.Valid() {
		return dst, encodeError("InventoryUpdate", "type", "unknown type "+quote(string(u.Type)))
	}
	w := writer{buf: dst, typ: "InventoryUpdate"}
	w.str(`{"event_id":`, u.EventID)
	w.raw(`,"type":"`, string(u.Type), `"`)
	w.str(`,"sku":`, u.SKU)
	w.optStr(`,"name":`, u.Name)
	w.optStr(`,"category":`, u.Category)
	w.optStr(`,"price":`, u.Price)
	w.optStr(`,"cost":`, u.Cost)
	w.optStr(`,"quantity":`, u.Quantity)
	w.time(`,"time":`, u.Time)
	w.optStr(`,"source":`, u.Source)
	return w.end(dst)
}

// inventoryUpdateSize estimates the encoded size of *u so that Encode allocates once.
func inventoryUpdateSize(u *event.InventoryUpdate) int {
	return 170 + len(u.EventID) + len(u.SKU) + len(u.Name) + len(u.Category) + len(u.Price) +
		len(u.Cost) + len(u.Quantity) + len(u.Source)
}
