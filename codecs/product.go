package codecs

import (
	"encoding/binary"
	"time"
	"unicode/utf8"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/inventory/product"
)

// Product is the goka codec of the inventory processor's table value, product.Product. Encode
// takes a product.Product or a non-nil *product.Product; Decode returns a *product.Product.
//
// Unlike the event codecs it writes a compact binary form, because the value is rewritten to the
// changelog on every update and holds lists (fence, month sums, the window of recent records): a
// version byte (1), then the fields in struct order — strings as a uvarint length and UTF-8 bytes,
// integers as varints, optional money as a 0/1 byte and a varint, times as a 0/1 byte and varints
// of Unix seconds and nanoseconds, lists as a uvarint count and their elements. Decoding is
// strict: an unknown version, a truncated or overlong input, a string that is not UTF-8, an
// unknown type code, a negative count or a nanosecond out of range is a *FieldError.
type Product struct{}

// productVersion is the first byte of every encoded Product.
const productVersion = 1

// The type codes of product.Entry.Type.
var entryTypes = []event.InventoryType{event.StockReport, event.Restock, event.ProductInfo}

// Encode encodes a product.Product or *product.Product.
func (Product) Encode(value any) ([]byte, error) {
	return encodeAny("Product", value, func(*product.Product) int { return 0 }, AppendProduct)
}

// Decode decodes a *product.Product.
func (Product) Decode(data []byte) (any, error) { return decodeAny(data, DecodeProduct) }

// AppendProduct appends the binary form of *p to dst. On error it returns dst unchanged and a
// *FieldError naming the field that would not decode.
func AppendProduct(dst []byte, p *product.Product) ([]byte, error) {
	w := binWriter{buf: append(dst, productVersion)}
	w.str("sku", p.SKU)
	w.str("name", p.Name)
	w.str("category", p.Category)
	w.optMoney(p.Price)
	w.optMoney(p.Cost)
	w.time("info_at", p.InfoAt)
	w.str("info_id", p.InfoID)
	w.int(p.Level)
	w.int(p.OnHand)
	w.time("updated", p.Updated)
	w.int(p.Applied)
	w.int(p.Duplicates)
	w.int(p.Late)
	w.count(len(p.Fence))
	for _, m := range p.Fence {
		w.str("fence", m.Source)
		w.int(m.Offset)
	}
	w.time("base.through", p.Base.Through)
	w.int(p.Base.Level)
	w.int(p.Base.OnHand)
	w.optMoney(p.Base.Cost)
	w.count(len(p.Closed))
	for _, m := range p.Closed {
		w.str("closed.month", m.Month)
		w.int(m.Days)
		w.int(m.UnitsSum)
		w.int(int64(m.ValueSum))
		w.int(m.Unvalued)
	}
	w.count(len(p.Window))
	for i := range p.Window {
		e := &p.Window[i]
		code := -1
		for c, t := range entryTypes {
			if t == e.Type {
				code = c
			}
		}
		if code < 0 && w.err == nil {
			w.err = encodeError("Product", "window.type", "unknown type "+quote(string(e.Type)))
		}
		w.str("window.id", e.ID)
		w.buf = append(w.buf, byte(code))
		w.time("window.at", e.At)
		w.int(e.Units)
		w.optMoney(e.Cost)
	}
	if w.err != nil {
		return dst, w.err
	}
	return w.buf, nil
}

// DecodeProduct decodes one Product strictly (see Product).
func DecodeProduct(data []byte) (*product.Product, error) {
	// One copy of the input; every decoded string is a substring of it.
	r := binReader{data: data, text: string(data)}
	if len(data) == 0 || data[0] != productVersion {
		r.field = "version"
		return nil, r.fail(ErrBadValue, "unknown version")
	}
	r.pos = 1
	p := &product.Product{}
	p.SKU = r.str("sku")
	p.Name = r.str("name")
	p.Category = r.str("category")
	p.Price = r.optMoney("price")
	p.Cost = r.optMoney("cost")
	p.InfoAt = r.time("info_at")
	p.InfoID = r.str("info_id")
	p.Level = r.int("level")
	p.OnHand = r.int("on_hand")
	p.Updated = r.time("updated")
	p.Applied = r.int("applied")
	p.Duplicates = r.int("duplicates")
	p.Late = r.int("late")
	if n := r.count("fence", 2); n > 0 {
		p.Fence = make(fence.Vector, n)
		for i := range p.Fence {
			p.Fence[i] = fence.Mark{Source: r.str("fence"), Offset: r.int("fence")}
		}
	}
	p.Base.Through = r.time("base.through")
	p.Base.Level = r.int("base.level")
	p.Base.OnHand = r.int("base.on_hand")
	p.Base.Cost = r.optMoney("base.cost")
	if n := r.count("closed", 6); n > 0 {
		p.Closed = make([]product.MonthClosing, n)
		for i := range p.Closed {
			m := &p.Closed[i]
			m.Month = r.str("closed.month")
			m.Days = r.int("closed.days")
			m.UnitsSum = r.int("closed.units_sum")
			m.ValueSum = event.Money(r.int("closed.value_sum"))
			m.Unvalued = r.int("closed.unvalued")
		}
	}
	if n := r.count("window", 6); n > 0 {
		p.Window = make([]product.Entry, n)
		for i := range p.Window {
			e := &p.Window[i]
			e.ID = r.str("window.id")
			e.Type = r.entryType("window.type")
			e.At = r.time("window.at")
			e.Units = r.int("window.units")
			e.Cost = r.optMoney("window.cost")
		}
	}
	if r.err == nil && r.pos != len(data) {
		r.field = ""
		r.err = r.fail(ErrSyntax, "data after the value")
	}
	if r.err != nil {
		return nil, r.err
	}
	return p, nil
}

// binWriter appends the binary form field by field and keeps the first error.
type binWriter struct {
	buf []byte
	err *FieldError
}

func (w *binWriter) str(field, s string) {
	if w.err == nil && !utf8.ValidString(s) {
		w.err = encodeError("Product", field, "invalid UTF-8")
	}
	w.buf = binary.AppendUvarint(w.buf, uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *binWriter) int(v int64) { w.buf = binary.AppendVarint(w.buf, v) }

func (w *binWriter) count(n int) { w.buf = binary.AppendUvarint(w.buf, uint64(n)) }

func (w *binWriter) optMoney(m *event.Money) {
	if m == nil {
		w.buf = append(w.buf, 0)
		return
	}
	w.buf = binary.AppendVarint(append(w.buf, 1), int64(*m))
}

func (w *binWriter) time(field string, t time.Time) {
	if t.IsZero() {
		w.buf = append(w.buf, 0)
		return
	}
	if w.err == nil && t.Location() != time.UTC {
		// Times compare equal across zones but would not round-trip to an identical value.
		w.err = encodeError("Product", field, "time not in UTC")
	}
	if y := t.Year(); w.err == nil && (y < 1 || y > 9999) {
		w.err = encodeError("Product", field, "year outside 0001..9999")
	}
	w.buf = binary.AppendVarint(append(w.buf, 1), t.Unix())
	w.buf = binary.AppendUvarint(w.buf, uint64(t.Nanosecond()))
}

// binReader reads the binary form; after the first error every read returns a zero value.
type binReader struct {
	data  []byte
	text  string // string(data)
	pos   int
	field string
	err   *FieldError
}

func (r *binReader) fail(sentinel error, reason string) *FieldError {
	return &FieldError{Op: "decode", Type: "Product", Field: r.field, Offset: r.pos, Reason: reason, Err: sentinel}
}

func (r *binReader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	r.field = field
	v, n := binary.Uvarint(r.data[r.pos:])
	if n <= 0 {
		r.err = r.fail(ErrSyntax, "truncated or overlong varint")
		return 0
	}
	r.pos += n
	return v
}

func (r *binReader) int(field string) int64 {
	if r.err != nil {
		return 0
	}
	r.field = field
	v, n := binary.Varint(r.data[r.pos:])
	if n <= 0 {
		r.err = r.fail(ErrSyntax, "truncated or overlong varint")
		return 0
	}
	r.pos += n
	return v
}

func (r *binReader) byte(field string) byte {
	if r.err != nil {
		return 0
	}
	r.field = field
	if r.pos >= len(r.data) {
		r.err = r.fail(ErrSyntax, "unexpected end of input")
		return 0
	}
	b := r.data[r.pos]
	r.pos++
	return b
}

func (r *binReader) str(field string) string {
	n := r.uvarint(field)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.data)-r.pos) {
		r.err = r.fail(ErrSyntax, "string longer than the input")
		return ""
	}
	s := r.text[r.pos : r.pos+int(n)]
	if !utf8.ValidString(s) {
		r.err = r.fail(ErrBadValue, "invalid UTF-8 in string")
		return ""
	}
	r.pos += int(n)
	return s
}

// count reads a list length; every element takes at least minSize bytes, so a count the rest of
// the input cannot hold is refused before anything is allocated.
func (r *binReader) count(field string, minSize int) int {
	n := r.uvarint(field)
	if r.err == nil && n > uint64((len(r.data)-r.pos)/minSize) {
		r.err = r.fail(ErrSyntax, "count larger than the input holds")
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *binReader) flag(field string) bool {
	switch b := r.byte(field); {
	case r.err != nil:
		return false
	case b > 1:
		r.pos--
		r.err = r.fail(ErrBadValue, "presence flag not 0 or 1")
		return false
	default:
		return b == 1
	}
}

func (r *binReader) optMoney(field string) *event.Money {
	if !r.flag(field) {
		return nil
	}
	m := event.Money(r.int(field))
	if r.err != nil {
		return nil
	}
	return &m
}

func (r *binReader) time(field string) time.Time {
	if !r.flag(field) {
		return time.Time{}
	}
	sec := r.int(field)
	nsec := r.uvarint(field)
	if r.err == nil && nsec >= 1e9 {
		r.err = r.fail(ErrBadValue, "nanoseconds out of range")
	}
	// Years outside 0001..9999 cannot be written by any producer of this value.
	const minSec, maxSec = -62135596800, 253402300799
	if r.err == nil && (sec < minSec || sec > maxSec) {
		r.err = r.fail(ErrBadValue, "year outside 0001..9999")
	}
	if r.err != nil {
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if t.IsZero() {
		// The zero time is written as an absent time; a present one must differ from it.
		r.err = r.fail(ErrBadValue, "zero time written as present")
		return time.Time{}
	}
	return t
}

func (r *binReader) entryType(field string) event.InventoryType {
	b := r.byte(field)
	if r.err != nil {
		return ""
	}
	if int(b) >= len(entryTypes) {
		r.pos--
		r.err = r.fail(ErrBadValue, "unknown type code")
		return ""
	}
	return entryTypes[b]
}
