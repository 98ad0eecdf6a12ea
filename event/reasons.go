package event

// Reason is a rejection reason code. Every rejected record carries exactly one, chosen by the first
// rule that fails, in the order the rules are listed for its dataset below; reports count by it.
type Reason string

// Reasons decided by replay, for rows that cannot become a record at all.
const (
	ReasonMalformed   Reason = "malformed"    // wrong field count, bad quoting, truncated or invalid JSON
	ReasonBadEncoding Reason = "bad_encoding" // invalid UTF-8
	ReasonBadField    Reason = "bad_field"    // a typed field that does not parse (quantity "abc", time "yesterday")
	ReasonTooLarge    Reason = "too_large"    // a row above the size limit
)

// Reasons decided by the gateways, in rule order per dataset. A record that a decoder cannot read
// from a topic is rejected as ReasonUndecodable.
const (
	ReasonUndecodable    Reason = "undecodable"     // bytes on a topic that the codec rejects
	ReasonMissingOrder   Reason = "missing_order"   // transactions: empty order id
	ReasonMissingUser    Reason = "missing_user"    // transactions, activity, feedback: empty user id
	ReasonMissingProduct Reason = "missing_product" // transactions, feedback; activity types that name a product
	ReasonMissingSKU     Reason = "missing_sku"     // inventory: SKU empty after standardization
	ReasonBadType        Reason = "bad_type"        // unknown event/line/update type
	ReasonBadTime        Reason = "bad_time"        // event time outside [2000-01-01, 2100-01-01) UTC
	ReasonBadQuantity    Reason = "bad_quantity"    // transactions: quantity ≤ 0 after the profile's mapping; inventory: unparseable, negative or absurd units
	ReasonBadPrice       Reason = "bad_price"       // transactions: unit price ≤ 0; inventory: unparseable or negative price/cost
	ReasonBadRating      Reason = "bad_rating"      // feedback: rating outside 1..5
	ReasonTextTooLong    Reason = "text_too_long"   // feedback: title or text above the limit
)
