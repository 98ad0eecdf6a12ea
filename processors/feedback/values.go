package feedback

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/shopease/shopease/processors/fence"
)

// The table value codecs live here rather than in package codecs: Rating embeds a fence.Vector,
// and codecs sits below processors in the import order (it encodes the event model and must not
// depend on processor packages). Their only writers are this package's processors; inspection
// tools decode them with ClaimCodec and RatingCodec.

// ErrBadValue is returned by the codecs' Decode for bytes that are not a valid table value,
// including a Rating whose count, sum and distribution disagree.
var ErrBadValue = errors.New("feedback: bad table value")

// Claim is the gateway's table value per review id: the input offset of the first accepted record
// of that id. A record of the same key at another offset is a duplicate.
type Claim struct {
	Offset int64 `json:"offset"`
}

// Rating is the ratings table value per product. Count, Sum and Dist (Dist[i] = reviews rated
// i+1) always agree: Count = ΣDist, Sum = Σ(i+1)·Dist[i]. Fence holds, per raw feedback partition,
// the highest origin offset applied, so that a redelivered review is not counted twice.
type Rating struct {
	Count int64        `json:"count"`
	Sum   int64        `json:"sum"`
	Dist  [5]int64     `json:"dist"`
	Fence fence.Vector `json:"fence"`
}

// Add counts one rating (1..5; the caller checks).
func (r *Rating) Add(rating int) {
	r.Count++
	r.Sum += int64(rating)
	r.Dist[rating-1]++
}

// Mean is the exact mean rating Sum/Count as a rational number, or nil when there are no ratings.
// It is computed on read so that it is never a rounded value that later sums would inherit.
func (r *Rating) Mean() *big.Rat {
	if r.Count == 0 {
		return nil
	}
	return big.NewRat(r.Sum, r.Count)
}

// MeanString formats the mean rounded half away from zero to decimals places ("4.33"), or "" when
// there are no ratings.
func (r *Rating) MeanString(decimals int) string {
	m := r.Mean()
	if m == nil {
		return ""
	}
	return m.FloatString(decimals)
}

// consistent reports whether the counts agree with each other.
func (r *Rating) consistent() bool {
	var n, s int64
	for i, d := range r.Dist {
		if d < 0 {
			return false
		}
		n += d
		s += int64(i+1) * d
	}
	return n == r.Count && s == r.Sum
}

// ClaimCodec encodes Claim as JSON ({"offset":123}).
type ClaimCodec struct{}

// Encode encodes a Claim or *Claim.
func (ClaimCodec) Encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case Claim:
		return json.Marshal(x)
	case *Claim:
		if x != nil {
			return json.Marshal(x)
		}
	}
	return nil, fmt.Errorf("feedback: encode %T: not a Claim", v)
}

// Decode returns a *Claim.
func (ClaimCodec) Decode(b []byte) (any, error) {
	c := &Claim{}
	if err := strictJSON(b, c); err != nil {
		return nil, fmt.Errorf("%w: claim: %w", ErrBadValue, err)
	}
	if c.Offset < 0 {
		return nil, fmt.Errorf("%w: claim offset %d", ErrBadValue, c.Offset)
	}
	return c, nil
}

// RatingCodec encodes Rating as JSON ({"count":3,"sum":12,"dist":[0,0,0,3,0],"fence":[...]}).
type RatingCodec struct{}

// Encode encodes a Rating or *Rating.
func (RatingCodec) Encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case Rating:
		return json.Marshal(x)
	case *Rating:
		if x != nil {
			return json.Marshal(x)
		}
	}
	return nil, fmt.Errorf("feedback: encode %T: not a Rating", v)
}

// Decode returns a *Rating whose counts agree.
func (RatingCodec) Decode(b []byte) (any, error) {
	// Dist is read as a slice first: encoding/json would silently drop a sixth element of an array.
	var w struct {
		Count int64        `json:"count"`
		Sum   int64        `json:"sum"`
		Dist  []int64      `json:"dist"`
		Fence fence.Vector `json:"fence"`
	}
	if err := strictJSON(b, &w); err != nil {
		return nil, fmt.Errorf("%w: rating: %w", ErrBadValue, err)
	}
	if len(w.Dist) != 5 {
		return nil, fmt.Errorf("%w: rating distribution of %d ratings, want 5", ErrBadValue, len(w.Dist))
	}
	r := &Rating{Count: w.Count, Sum: w.Sum, Fence: w.Fence}
	copy(r.Dist[:], w.Dist)
	if !r.consistent() {
		return nil, fmt.Errorf("%w: rating count %d and sum %d disagree with distribution %v", ErrBadValue, r.Count, r.Sum, r.Dist)
	}
	return r, nil
}

// strictJSON decodes exactly one JSON object with known fields only.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}
