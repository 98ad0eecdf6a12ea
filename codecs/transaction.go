package codecs

import "github.com/shopease/shopease/event"

// TransactionLine is the goka codec of event.TransactionLine. Encode takes an
// event.TransactionLine or a non-nil *event.TransactionLine; Decode returns a
// *event.TransactionLine.
type TransactionLine struct{}

// Encode encodes an event.TransactionLine or *event.TransactionLine as JSON.
func (TransactionLine) Encode(value any) ([]byte, error) {
	return encodeAny("TransactionLine", value, transactionLineSize, AppendTransactionLine)
}

// Decode decodes JSON into a *event.TransactionLine.
func (TransactionLine) Decode(data []byte) (any, error) {
	return decodeAny(data, DecodeTransactionLine)
}

// The JSON fields of TransactionLine, in struct order; the constants are their indexes.
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
	txSource
)

var transactionLineFields = newFieldSet("TransactionLine",
	[]string{"line_id", "order_id", "type", "user_id", "product_id", "description", "quantity",
		"unit_price", "currency", "country", "time", "source"},
	"line_id", "order_id", "type", "time")

// DecodeTransactionLine decodes one TransactionLine strictly (see the package doc). Quantity and
// unit_price are optional: a missing one decodes as 0, which the gateway rejects with its reason.
func DecodeTransactionLine(data []byte) (*event.TransactionLine, error) {
	l := new(event.TransactionLine)
	if err := DecodeTransactionLineInto(data, l); err != nil {
		return nil, err
	}
	return l, nil
}

// DecodeTransactionLineInto decodes into *l, reusing it; on error *l holds an unspecified partial
// value.
func DecodeTransactionLineInto(data []byte, l *event.TransactionLine) error {
	*l = event.TransactionLine{}
	var r reader
	r.init(data, transactionLineFields)
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
		case txLineID:
			l.LineID, err = r.str()
		case txOrderID:
			l.OrderID, err = r.str()
		case txType:
			l.Type, err = r.txType()
		case txUserID:
			l.UserID, err = r.str()
		case txProductID:
			l.ProductID, err = r.str()
		case txDescription:
			l.Description, err = r.str()
		case txQuantity:
			l.Quantity, err = r.int64Value(64)
		case txUnitPrice:
			l.UnitPrice, err = r.money()
		case txCurrency:
			l.Currency, err = r.str()
		case txCountry:
			l.Country, err = r.str()
		case txTime:
			l.Time, err = r.timeValue()
		case txSource:
			l.Source, err = r.str()
		}
		if err != nil {
			return err
		}
	}
}

// txType reads a known TxType as the package constant.
func (r *reader) txType() (event.TxType, error) {
	at := r.pos
	s, err := r.str()
	if err != nil {
		return "", err
	}
	for _, t := range event.TxTypes {
		if string(t) == s {
			return t, nil
		}
	}
	r.pos = at
	return "", r.fail(ErrBadValue, "unknown type "+quote(s))
}

// AppendTransactionLine appends the JSON form of *l to dst. On error it returns dst unchanged and
// a *FieldError naming the field that would not decode.
func AppendTransactionLine(dst []byte, l *event.TransactionLine) ([]byte, error) {
	if !l.Type.Valid() {
		return dst, encodeError("TransactionLine", "type", "unknown type "+quote(string(l.Type)))
	}
	w := writer{buf: dst, typ: "TransactionLine"}
	w.str(`{"line_id":`, l.LineID)
	w.str(`,"order_id":`, l.OrderID)
	w.raw(`,"type":"`, string(l.Type), `"`)
	w.str(`,"user_id":`, l.UserID)
	w.str(`,"product_id":`, l.ProductID)
	w.optStr(`,"description":`, l.Description)
	w.int(`,"quantity":`, l.Quantity)
	w.money(`,"unit_price":`, l.UnitPrice)
	w.optStr(`,"currency":`, l.Currency)
	w.optStr(`,"country":`, l.Country)
	w.time(`,"time":`, l.Time)
	w.optStr(`,"source":`, l.Source)
	return w.end(dst)
}

// transactionLineSize estimates the encoded size of *l so that Encode allocates once.
func transactionLineSize(l *event.TransactionLine) int {
	return 230 + len(l.LineID) + len(l.OrderID) + len(l.UserID) + len(l.ProductID) +
		len(l.Description) + len(l.Currency) + len(l.Country) + len(l.Source)
}
