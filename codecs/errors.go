package codecs

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by a decoder or an encoder in this package is a *FieldError
// (or, for a Go value of the wrong type, wraps ErrUnsupportedType) and unwraps to exactly one of them.
var (
	// ErrSyntax is returned when the input is not exactly one well-formed JSON object: truncated,
	// trailing data, a bad escape, a control character in a string, invalid UTF-8 outside a string.
	ErrSyntax = errors.New("codecs: syntax error")
	// ErrUnknownField is returned for a field name the record type does not have.
	ErrUnknownField = errors.New("codecs: unknown field")
	// ErrDuplicateField is returned when an object names the same field twice.
	ErrDuplicateField = errors.New("codecs: duplicate field")
	// ErrMissingField is returned when a required field is absent.
	ErrMissingField = errors.New("codecs: missing required field")
	// ErrWrongType is returned when a field holds a JSON value of the wrong kind (a number where a
	// string belongs, an object anywhere).
	ErrWrongType = errors.New("codecs: wrong JSON type")
	// ErrBadValue is returned for a value of the right JSON kind that is not acceptable: an unknown
	// type value, a time or money that does not parse or is out of range, a number out of range,
	// invalid UTF-8, null in a required field. Encoders return it for Go values that would not decode.
	ErrBadValue = errors.New("codecs: bad value")
	// ErrUnsupportedType is returned by a codec's Encode for a Go value other than the record type
	// or a non-nil pointer to it.
	ErrUnsupportedType = errors.New("codecs: unsupported Go type")
)

// FieldError describes why a record did not decode or encode. Callers choose a reason code with
// errors.Is on the sentinels and Field; Error's text is safe to log (see the package doc).
type FieldError struct {
	Op     string // "decode" or "encode"
	Type   string // record type, e.g. "Activity"
	Field  string // JSON field name; empty when the record as a whole is at fault
	Offset int    // byte offset in the input where decoding stopped; -1 when encoding
	Reason string // what is wrong, e.g. "want string, got number"
	Err    error  // one of the sentinel errors
	Cause  error  // the underlying error, e.g. event.ErrMoneyPrecision; may be nil
}

// Error formats the error as "codecs: decode Activity.time at byte 123: bad value: ...".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("codecs: ")
	b.WriteString(e.Op)
	b.WriteByte(' ')
	b.WriteString(e.Type)
	if e.Field != "" {
		b.WriteByte('.')
		b.WriteString(e.Field)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at byte %d", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "codecs: "))
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns the sentinel error and, when there is one, the underlying cause, so that both
// errors.Is(err, ErrBadValue) and errors.Is(err, event.ErrMoneyPrecision) hold.
func (e *FieldError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// maxQuote is how much of a typed value or an unknown field name an error text quotes.
const maxQuote = 24

// quote returns s quoted for an error text, cut to maxQuote bytes.
func quote(s string) string {
	if len(s) > maxQuote {
		return fmt.Sprintf("%q...", s[:maxQuote])
	}
	return fmt.Sprintf("%q", s)
}

// encodeError reports a Go value that the encoder refuses because it would not decode.
func encodeError(typ, field, reason string) *FieldError {
	return &FieldError{Op: "encode", Type: typ, Field: field, Offset: -1, Reason: reason, Err: ErrBadValue}
}

// unsupported reports a Go value of a type the codec does not encode.
func unsupported(typ string, v any) error {
	return fmt.Errorf("codecs: encode %s: got %T: %w", typ, v, ErrUnsupportedType)
}
