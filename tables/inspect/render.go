package inspect

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/lovoo/goka"
)

// jsonRecord is the JSON form of a Record. Bytes that are not valid UTF-8 go to the *_base64 field
// instead, because encoding/json would silently replace them.
type jsonRecord struct {
	Table      string `json:"table"`
	Partition  int32  `json:"partition"`
	Key        string `json:"key,omitempty"`
	KeyBase64  string `json:"key_base64,omitempty"`
	Value      any    `json:"value,omitempty"`
	Raw        string `json:"raw,omitempty"`
	RawBase64  string `json:"raw_base64,omitempty"`
	EmptyValue bool   `json:"empty,omitempty"`
}

// JSON renders rec as one JSON object for `shopease inspect`. With a codec the value is decoded
// with it and marshalled ("value"); with a nil codec it is shown raw ("raw" when it is valid UTF-8,
// "raw_base64" otherwise).
func JSON(c goka.Codec, rec Record) ([]byte, error) {
	out := jsonRecord{Table: rec.Table, Partition: rec.Partition}
	if utf8.ValidString(rec.Key) {
		out.Key = rec.Key
	} else {
		out.KeyBase64 = base64.StdEncoding.EncodeToString([]byte(rec.Key))
	}
	switch {
	case len(rec.Value) == 0 && c == nil:
		out.EmptyValue = true
	case c != nil:
		v, err := Decode(c, rec)
		if err != nil {
			return nil, err
		}
		out.Value = v
	case utf8.Valid(rec.Value):
		out.Raw = string(rec.Value)
	default:
		out.RawBase64 = base64.StdEncoding.EncodeToString(rec.Value)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("inspect: render %s key %q: %w", rec.Table, rec.Key, err)
	}
	return b, nil
}
