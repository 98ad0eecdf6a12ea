// Package codecs turns the records of package event into bytes and back: one goka codec per record
// type (Activity, TransactionLine, InventoryUpdate, Review, DeadLetter), plus typed Append and Decode
// functions for hot paths that want no interface boxing.
//
// The codecs are empty structs without state, safe for concurrent use; codecs.Activity{} and
// new(codecs.Activity) are both goka.Codecs. Decode always returns a pointer (*event.Activity, ...)
// and, on error, an untyped nil.
//
// # Wire format
//
// Every record is one JSON object in the form docs/formats.md describes, because producers outside
// this project write the raw topics and JSON is the contract with them:
//
//   - field names are the snake_case names of the event structs' json tags, matched exactly (not
//     case-insensitively, unlike encoding/json), each at most once;
//   - times are RFC 3339 strings, "2024-03-01T10:15:00Z", with up to nine fractional digits; any
//     numeric offset is accepted on input and converted to UTC, the year must be 0001..9999, and the
//     encoder always writes UTC with "Z";
//   - Money is a JSON string holding a plain decimal with at most three decimals ("1.95"); a JSON
//     number literal (1.95) is accepted on input and parsed exactly from its text, never through
//     float64; the encoder always writes the string form;
//   - []byte fields (DeadLetter.Key, DeadLetter.Original) are standard base64 with padding, as
//     encoding/json writes them;
//   - optional fields may be absent or null and then decode to the zero value; the encoder omits the
//     fields whose json tag says omitempty when they are empty and writes all others.
//
// The encoder escapes only what JSON requires ('"', '\\' and control characters), so its output is
// shorter than encoding/json's and is read by encoding/json into the same values.
//
// # Strict decoding
//
// Decoding fails with a *FieldError that names the record type and the field, and unwraps to one of
// the sentinel errors (ErrSyntax, ErrUnknownField, ErrDuplicateField, ErrMissingField, ErrWrongType,
// ErrBadValue), when the input is not exactly one JSON object (trailing data, truncation, invalid
// UTF-8 outside strings), names an unknown field or one field twice, lacks a required field, holds a
// value of the wrong JSON type, an unknown type value, a time or money that does not parse, a number
// out of range, or a string that is not valid UTF-8.
//
// "Required" is structural, as the `// required` comments in package event say: ids, the type and
// the event time must be present (and not null). They may still be empty strings, and fields such as
// user_id and product_id may be missing, because on raw topics the gateways reject such records with
// a reason code of their own (missing_user, missing_order, ...); a missing required field
// (ErrMissingField) is therefore distinguishable from an empty one (decoded as ""). DeadLetter
// requires reason, source and time.
//
// Encoding applies the same rules to Go values (known type value, time year 0001..9999, valid UTF-8),
// so whatever encodes also decodes, to an equal value once times are in UTC.
//
// Error texts never quote the value of a free-text field (ids, names, texts may hold raw user ids);
// they quote at most a short prefix of a typed field's value (type, time, money, numbers).
//
// # Memory
//
// A decoded record's strings share one copy of the input: decoding allocates that copy, the record
// and, only for strings with escapes or base64 fields, a little more. A string kept for long keeps the
// whole record's text alive with it; strings.Clone it if that matters.
package codecs
