package transactions

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Claim is the group table value of a line id: the input offset of the record that claimed it (the
// first accepted record with that line id). A line id is the record key, so all its records live in
// one partition and the offset alone names the claiming record.
//
// The value is internal dedupe state, read by nobody but this processor (and `shopease inspect`,
// which prints the struct), so its codec is a fixed-size binary one kept here rather than a JSON
// codec in package codecs, which is for event and table values that analysts read. Nothing about
// the emitted lines is stored: they are a pure function of the input record and the pseudonym key,
// so a redelivered record is simply processed again.
type Claim struct {
	Offset int64
}

// claimVersion is the first byte of an encoded Claim, so the layout can change without misreading
// old changelogs.
const claimVersion = 1

// claimSize is the encoded size: version byte + big-endian offset.
const claimSize = 1 + 8

// ErrBadClaim is returned by ClaimCodec.Decode for bytes that are not an encoded Claim.
var ErrBadClaim = errors.New("transactions: bad claim table value")

// ClaimCodec is the goka codec of the group table: Encode takes a Claim or *Claim, Decode returns a
// *Claim.
type ClaimCodec struct{}

// Encode encodes a Claim or a non-nil *Claim.
func (ClaimCodec) Encode(v any) ([]byte, error) {
	var c Claim
	switch x := v.(type) {
	case Claim:
		c = x
	case *Claim:
		if x == nil {
			return nil, fmt.Errorf("transactions: encode claim: nil *Claim")
		}
		c = *x
	default:
		return nil, fmt.Errorf("transactions: encode claim: got %T", v)
	}
	b := make([]byte, claimSize)
	b[0] = claimVersion
	binary.BigEndian.PutUint64(b[1:], uint64(c.Offset))
	return b, nil
}

// Decode decodes bytes written by Encode.
func (ClaimCodec) Decode(b []byte) (any, error) {
	if len(b) != claimSize || b[0] != claimVersion {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadClaim, len(b))
	}
	return &Claim{Offset: int64(binary.BigEndian.Uint64(b[1:]))}, nil
}
