package codecs

// ValueCodec is the shape of a goka codec (goka.Codec), named here so that this package need not
// import goka.
type ValueCodec interface {
	Encode(value any) ([]byte, error)
	Decode(data []byte) (any, error)
}

// Control wraps the value codec of a topic that may also carry control records (event.HeaderControl,
// e.g. the end-of-input marker a gateway forwards to its clean topic): a []byte value is written
// as it is, anything else is encoded by Codec. Decode is Codec's: a consumer recognises a control
// record by its header, before decoding the value.
type Control struct {
	Codec ValueCodec
}

// Encode writes a []byte as it is and encodes anything else with c.Codec.
func (c Control) Encode(value any) ([]byte, error) {
	if b, ok := value.([]byte); ok {
		return b, nil
	}
	return c.Codec.Encode(value)
}

// Decode decodes with c.Codec.
func (c Control) Decode(data []byte) (any, error) { return c.Codec.Decode(data) }
