package codecs

import (
	"encoding/base64"

	"github.com/shopease/shopease/event"
)

// DeadLetter is the goka codec of event.DeadLetter. Encode takes an event.DeadLetter or a non-nil
// *event.DeadLetter; Decode returns a *event.DeadLetter.
type DeadLetter struct{}

// Encode encodes an event.DeadLetter or *event.DeadLetter as JSON.
func (DeadLetter) Encode(value any) ([]byte, error) {
	return encodeAny("DeadLetter", value, deadLetterSize, AppendDeadLetter)
}

// Decode decodes JSON into a *event.DeadLetter.
func (DeadLetter) Decode(data []byte) (any, error) { return decodeAny(data, DecodeDeadLetter) }

// The JSON fields of DeadLetter, in struct order; the constants are their indexes.
const (
	dlReason = iota
	dlDetail
	dlSource
	dlProcessor
	dlDataset
	dlKey
	dlOriginal
	dlTime
)

// Time is required although event.DeadLetter does not mark it: only this project writes dead
// letters, and a dead letter without the time of its rejection cannot be ordered or expired.
var deadLetterFields = newFieldSet("DeadLetter",
	[]string{"reason", "detail", "source", "processor", "dataset", "key", "original", "time"},
	"reason", "source", "time")

// DecodeDeadLetter decodes one DeadLetter strictly (see the package doc). Key and Original are
// base64; an empty or missing one decodes as nil.
func DecodeDeadLetter(data []byte) (*event.DeadLetter, error) {
	d := new(event.DeadLetter)
	if err := DecodeDeadLetterInto(data, d); err != nil {
		return nil, err
	}
	return d, nil
}

// DecodeDeadLetterInto decodes into *d, reusing it; on error *d holds an unspecified partial
// value.
func DecodeDeadLetterInto(data []byte, d *event.DeadLetter) error {
	*d = event.DeadLetter{}
	var r reader
	r.init(data, deadLetterFields)
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
		case dlReason:
			d.Reason, err = r.str()
		case dlDetail:
			d.Detail, err = r.str()
		case dlSource:
			d.Source, err = r.str()
		case dlProcessor:
			d.Processor, err = r.str()
		case dlDataset:
			d.Dataset, err = r.str()
		case dlKey:
			d.Key, err = r.bytesValue()
		case dlOriginal:
			d.Original, err = r.bytesValue()
		case dlTime:
			d.Time, err = r.timeValue()
		}
		if err != nil {
			return err
		}
	}
}

// AppendDeadLetter appends the JSON form of *d to dst. On error it returns dst unchanged and a
// *FieldError naming the field that would not decode. A nil Original is written as "" (not null,
// as encoding/json would), so the field is always present.
func AppendDeadLetter(dst []byte, d *event.DeadLetter) ([]byte, error) {
	w := writer{buf: dst, typ: "DeadLetter"}
	w.str(`{"reason":`, d.Reason)
	w.optStr(`,"detail":`, d.Detail)
	w.str(`,"source":`, d.Source)
	w.str(`,"processor":`, d.Processor)
	w.optStr(`,"dataset":`, d.Dataset)
	if len(d.Key) > 0 {
		w.bytes(`,"key":`, d.Key)
	}
	w.bytes(`,"original":`, d.Original)
	w.time(`,"time":`, d.Time)
	return w.end(dst)
}

// deadLetterSize estimates the encoded size of *d so that Encode allocates once.
func deadLetterSize(d *event.DeadLetter) int {
	return 130 + len(d.Reason) + len(d.Detail) + len(d.Source) + len(d.Processor) + len(d.Dataset) +
		base64.StdEncoding.EncodedLen(len(d.Key)) + base64.StdEncoding.EncodedLen(len(d.Original))
}
