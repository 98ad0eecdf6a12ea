package event

import "time"

// ActivityType is the kind of a clickstream event.
type ActivityType string

// The clickstream event types. A session normally walks the funnel in this order.
const (
	PageView       ActivityType = "page_view"
	ProductView    ActivityType = "product_view"
	Search         ActivityType = "search"
	AddToCart      ActivityType = "add_to_cart"
	RemoveFromCart ActivityType = "remove_from_cart"
	CheckoutStart  ActivityType = "checkout_start"
)

// ActivityTypes lists every known ActivityType; decoders reject any other.
var ActivityTypes = []ActivityType{PageView, ProductView, Search, AddToCart, RemoveFromCart, CheckoutStart}

// Valid reports whether t is a known activity type.
func (t ActivityType) Valid() bool {
	for _, k := range ActivityTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Activity is one clickstream event. On shopease.activity UserID is the raw user id and the record
// key; on the clean activity topic UserID is the pseudonym and the key.
type Activity struct {
	EventID   string       `json:"event_id"`             // unique per event; required
	UserID    string       `json:"user_id"`              // required on clean topics
	SessionID string       `json:"session_id,omitempty"` // when the source has one
	Type      ActivityType `json:"type"`                 // required, one of ActivityTypes
	ProductID string       `json:"product_id,omitempty"` // product_view, add/remove cart
	Page      string       `json:"page,omitempty"`
	Referrer  string       `json:"referrer,omitempty"` // where the session entered from
	Query     string       `json:"query,omitempty"`    // search text
	Time      time.Time    `json:"time"`               // event time, UTC; required
}

// TxType is the kind of a transaction line.
type TxType string

// The transaction line types. Refund and return lines count negative in every money sum; a return
// also brings units back.
const (
	Purchase TxType = "purchase"
	Refund   TxType = "refund"
	Return   TxType = "return"
)

// TxTypes lists every known TxType; decoders reject any other.
var TxTypes = []TxType{Purchase, Refund, Return}

// Valid reports whether t is a known transaction type.
func (t TxType) Valid() bool { return t == Purchase || t == Refund || t == Return }

// Sign is +1 for purchases and -1 for refunds and returns.
func (t TxType) Sign() int64 {
	if t == Purchase {
		return 1
	}
	return -1
}

// TransactionLine is one line of an order. On shopease.transactions the key is LineID and UserID is
// raw (possibly empty: the gateway rejects it as missing_user); on clean topics UserID is the
// pseudonym. Quantity is the number of units and is positive on valid lines of every type; the
// sign of the money comes from Type.
type TransactionLine struct {
	LineID      string    `json:"line_id"`  // unique per line, stable across replays; required
	OrderID     string    `json:"order_id"` // required
	Type        TxType    `json:"type"`     // required
	UserID      string    `json:"user_id"`
	ProductID   string    `json:"product_id"`
	Description string    `json:"description,omitempty"`
	Quantity    int64     `json:"quantity"`
	UnitPrice   Money     `json:"unit_price"`
	Currency    string    `json:"currency,omitempty"`
	Country     string    `json:"country,omitempty"`
	Time        time.Time `json:"time"`             // event time, UTC; required
	Source      string    `json:"source,omitempty"` // provenance, e.g. "2011-01-04.csv:17"
}

// Amount is the signed line amount: quantity × unit price, negative for refunds and returns.
func (l *TransactionLine) Amount() (Money, error) {
	return l.UnitPrice.Times(l.Quantity * l.Type.Sign())
}

// InventoryType is the kind of an inventory update.
type InventoryType string

// The inventory update types.
const (
	StockReport InventoryType = "stock_report" // absolute on-hand units at Time
	Restock     InventoryType = "restock"      // units received at Time (added to on-hand)
	ProductInfo InventoryType = "product_info" // name, category, price or cost changed
)

// InventoryTypes lists every known InventoryType; decoders reject any other.
var InventoryTypes = []InventoryType{StockReport, Restock, ProductInfo}

// Valid reports whether t is a known inventory update type.
func (t InventoryType) Valid() bool { return t == StockReport || t == Restock || t == ProductInfo }

// InventoryUpdate is one inventory record as received: on shopease.inventory the key is the SKU as
// received and the value fields keep their source text ("$1,299.00", "12 pcs", " sku-001 "), because
// standardizing them is the inventory processor's job.
type InventoryUpdate struct {
	EventID  string        `json:"event_id"` // required
	Type     InventoryType `json:"type"`     // required
	SKU      string        `json:"sku"`      // required, as received
	Name     string        `json:"name,omitempty"`
	Category string        `json:"category,omitempty"`
	Price    string        `json:"price,omitempty"`    // as received
	Cost     string        `json:"cost,omitempty"`     // as received
	Quantity string        `json:"quantity,omitempty"` // as received; units for stock_report/restock
	Time     time.Time     `json:"time"`               // event time, UTC; required
	Source   string        `json:"source,omitempty"`
}

// Review is one customer review. On shopease.feedback the key is ReviewID and UserID is raw.
type Review struct {
	ReviewID  string    `json:"review_id"` // required
	UserID    string    `json:"user_id"`
	ProductID string    `json:"product_id"`
	Rating    int       `json:"rating"` // 1..5 on valid reviews
	Title     string    `json:"title,omitempty"`
	Text      string    `json:"text,omitempty"`
	Time      time.Time `json:"time"` // event time, UTC; required
	Source    string    `json:"source,omitempty"`
}

// DeadLetter is a rejected record. It keeps the original bytes so the record can be fixed and
// replayed, which is why shopease.deadletter is classed with the raw topics. Anything derived from
// dead letters for analysts carries reason counts only.
type DeadLetter struct {
	Reason    string    `json:"reason"`           // reason code, e.g. "missing_user"; required
	Detail    string    `json:"detail,omitempty"` // human-readable; never a raw user id
	Source    string    `json:"source"`           // "file:line" or "topic/partition/offset"; required
	Processor string    `json:"processor"`        // who rejected it: "replay", "transactions", ...
	Dataset   string    `json:"dataset,omitempty"`
	Key       []byte    `json:"key,omitempty"`
	Original  []byte    `json:"original"` // the record as read, byte for byte
	Time      time.Time `json:"time"`     // when it was rejected (wall clock)
}
