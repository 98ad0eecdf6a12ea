package feedback

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopease/shopease/event"
)

// Limits of a review's free text, in characters (Unicode code points).
const (
	MaxTitleChars = 200
	MaxTextChars  = 10_000
)

// The event-time window the gateway accepts: [MinTime, MaxTime) UTC, as for every dataset.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// rule is one validation rule: fails returns a detail text when the review breaks it. Details
// name fields and typed values only, never ids or free text.
type rule struct {
	reason event.Reason
	fails  func(r *event.Review) (detail string, failed bool)
}

// rules are the feedback rules in the order event/reasons.go lists them; the first failing one
// decides the reason. This is the only place the gateway's rules live.
var rules = []rule{
	{event.ReasonMissingUser, func(r *event.Review) (string, bool) {
		return "empty user_id", r.UserID == ""
	}},
	{event.ReasonMissingProduct, func(r *event.Review) (string, bool) {
		return "empty product_id", r.ProductID == ""
	}},
	{event.ReasonBadTime, func(r *event.Review) (string, bool) {
		return "time " + r.Time.UTC().Format(time.RFC3339) + " outside [2000-01-01, 2100-01-01)",
			r.Time.Before(MinTime) || !r.Time.Before(MaxTime)
	}},
	{event.ReasonBadRating, func(r *event.Review) (string, bool) {
		return "rating " + strconv.Itoa(r.Rating) + " outside 1..5", !ValidRating(r.Rating)
	}},
	{event.ReasonTextTooLong, func(r *event.Review) (string, bool) {
		if n := utf8.RuneCountInString(r.Title); n > MaxTitleChars {
			return "title of " + strconv.Itoa(n) + " characters, limit " + strconv.Itoa(MaxTitleChars), true
		}
		if n := utf8.RuneCountInString(r.Text); n > MaxTextChars {
			return "text of " + strconv.Itoa(n) + " characters, limit " + strconv.Itoa(MaxTextChars), true
		}
		return "", false
	}},
}

// ValidRating reports whether n is a rating a review may carry: 1..5.
func ValidRating(n int) bool { return n >= 1 && n <= 5 }

// Check applies the rules in order and returns the reason and detail of the first that fails, or
// an empty reason when r passes them all.
func Check(r *event.Review) (event.Reason, string) {
	for _, ru := range rules {
		if detail, failed := ru.fails(r); failed {
			return ru.reason, detail
		}
	}
	return "", ""
}
