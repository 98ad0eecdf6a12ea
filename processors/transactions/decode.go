package transactions

import (
	"encoding/json"
	"errors"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// Decode reads the bytes of a raw transaction record strictly, with one exception: an unknown
// type value ("purchse", "exchange") is returned in the line's Type instead of failing, so that the
// record is judged by Rules and rejected as bad_type — after missing_order, missing_user and
// missing_product, as the rule order says — rather than as undecodable. Everything else the codec
// refuses (syntax, unknown or duplicate fields, wrong JSON types, bad times or money) stays an
// error; the gateway rejects such records as undecodable.
//
// The codec refuses unknown types because clean topics must only ever carry known ones; the raw
// topic is written by producers outside this project, and a wrong type there is a business
// rejection with its own reason code (event.ReasonBadType), counted as such by the generator's
// ground truth.
func Decode(data []byte) (*event.TransactionLine, error) {
	l, err := codecs.DecodeTransactionLine(data)
	if err == nil {
		return l, nil
	}
	typ, patched, ok := patchUnknownType(data, err)
	if !ok {
		return nil, err
	}
	l, err2 := codecs.DecodeTransactionLine(patched)
	if err2 != nil {
		// Broken elsewhere too: report the first fault, as a strict decoder would.
		return nil, err
	}
	l.Type = event.TxType(typ)
	return l, nil
}

// patchUnknownType recognizes the codec's "unknown type" failure and returns the type text and the
// record with that value replaced by a known type, so the rest of it can be decoded strictly.
func patchUnknownType(data []byte, err error) (string, []byte, bool) {
	var fe *codecs.FieldError
	if !errors.As(err, &fe) || fe.Field != "type" || !errors.Is(err, codecs.ErrBadValue) {
		return "", nil, false
	}
	// The codec reports the offset of the string value's opening quote.
	start := fe.Offset
	if start < 0 || start >= len(data) || data[start] != '"' {
		return "", nil, false
	}
	end := stringEnd(data, start)
	if end < 0 {
		return "", nil, false
	}
	var typ string
	if json.Unmarshal(data[start:end], &typ) != nil {
		return "", nil, false
	}
	patched := make([]byte, 0, len(data)+len(event.Purchase))
	patched = append(patched, data[:start]...)
	patched = append(patched, '"')
	patched = append(patched, event.Purchase...)
	patched = append(patched, '"')
	patched = append(patched, data[end:]...)
	return typ, patched, true
}

// stringEnd returns the offset just past the JSON string that starts at data[start] (a quote), or
// -1 when it is not closed.
func stringEnd(data []byte, start int) int {
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
