package codecs

import (
	"strconv"

	"github.com/shopease/shopease/event"
)

// Review is the goka codec of event.Review. Encode takes an event.Review or a non-nil
// *event.Review; Decode returns a *event.Review.
type Review struct{}

// Encode encodes an event.Review or *event.Review as JSON.
func (Review) Encode(value any) ([]byte, error) {
	return encodeAny("Review", value, reviewSize, AppendReview)
}

// Decode decodes JSON into a *event.Review.
func (Review) Decode(data []byte) (any, error) { return decodeAny(data, DecodeReview) }

// The JSON fields of Review, in struct order; the constants are their indexes.
const (
	revReviewID = iota
	revUserID
	revProductID
	revRating
	revTitle
	revText
	revTime
	revSource
)

var reviewFields = newFieldSet("Review",
	[]string{"review_id", "user_id", "product_id", "rating", "title", "text", "time", "source"},
	"review_id", "time")

// DecodeReview decodes one Review strictly (see the package doc). Any rating that fits an int
// decodes, so that the feedback gateway can reject one outside 1..5 as bad_rating; a missing
// rating decodes as 0.
func DecodeReview(data []byte) (*event.Review, error) {
	v := new(event.Review)
	if err := DecodeReviewInto(data, v); err != nil {
		return nil, err
	}
	return v, nil
}

// DecodeReviewInto decodes into *v, reusing it; on error *v holds an unspecified partial value.
func DecodeReviewInto(data []byte, v *event.Review) error {
	*v = event.Review{}
	var r reader
	r.init(data, reviewFields)
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
		case revReviewID:
			v.ReviewID, err = r.str()
		case revUserID:
			v.UserID, err = r.str()
		case revProductID:
			v.ProductID, err = r.str()
		case revRating:
			var n int64
			n, err = r.int64Value(strconv.IntSize)
			v.Rating = int(n)
		case revTitle:
			v.Title, err = r.str()
		case revText:
			v.Text, err = r.str()
		case revTime:
			v.Time, err = r.timeValue()
		case revSource:
			v.Source, err = r.str()
		}
		if err != nil {
			return err
		}
	}
}

// AppendReview appends the JSON form of *v to dst. On error it returns dst unchanged and a
// *FieldError naming the field that would not decode.
func AppendReview(dst []byte, v *event.Review) ([]byte, error) {
	w := writer{buf: dst, typ: "Review"}
	w.str(`{"review_id":`, v.ReviewID)
	w.str(`,"user_id":`, v.UserID)
	w.str(`,"product_id":`, v.ProductID)
	w.int(`,"rating":`, int64(v.Rating))
	w.optStr(`,"title":`, v.Title)
	w.optStr(`,"text":`, v.Text)
	w.time(`,"time":`, v.Time)
	w.optStr(`,"source":`, v.Source)
	return w.end(dst)
}

// reviewSize estimates the encoded size of *v so that Encode allocates once.
func reviewSize(v *event.Review) int {
	return 150 + len(v.ReviewID) + len(v.UserID) + len(v.ProductID) + len(v.Title) + len(v.Text) +
		len(v.Source)
}
