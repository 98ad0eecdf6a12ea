package codecs

// The goka codecs of this package share one contract: Encode takes a T or a non-nil *T, Decode
// returns a *T or, on error, an untyped nil (never a nil *T inside an interface, which a caller's
// `v == nil` would miss). These two helpers hold it once for every record type.

// encodeAny encodes value (a T or a non-nil *T) with app into a buffer of size(v) bytes, so that
// it allocates once; nothing is returned with an error.
func encodeAny[T any](name string, value any, size func(*T) int, app func([]byte, *T) ([]byte, error)) ([]byte, error) {
	var p *T
	switch v := value.(type) {
	case *T:
		p = v
	case T:
		p = &v
	}
	if p == nil {
		return nil, unsupported(name, value)
	}
	data, err := app(make([]byte, 0, size(p)), p)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// decodeAny decodes with dec and returns an untyped nil on error.
func decodeAny[T any](data []byte, dec func([]byte) (*T, error)) (any, error) {
	v, err := dec(data)
	if err != nil {
		return nil, err
	}
	return v, nil
}
