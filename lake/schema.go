package lake

import (
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/journeys"
	"github.com/shopease/shopease/processors/topology"
)

// The dataset names: the folders under <lake>/events.
const (
	Transactions = "transactions"
	Activity     = "activity"
	Inventory    = "inventory"
	Feedback     = "feedback"
	Journeys     = "journeys"
)

// TransactionRow is one clean transaction line. UnitPrice and Amount are DECIMAL(18,3) (int64
// thousandths, event.Money); Amount is signed: negative for refunds and returns.
type TransactionRow struct {
	LineID         string    `parquet:"line_id,zstd"`
	OrderID        string    `parquet:"order_id,zstd"`
	Type           string    `parquet:"type,zstd,dict"`
	UserPseudonym  string    `parquet:"user_pseudonym,zstd"`
	ProductID      string    `parquet:"product_id,zstd,dict"`
	Description    string    `parquet:"description,zstd"`
	Quantity       int64     `parquet:"quantity,zstd"`
	UnitPrice      int64     `parquet:"unit_price,decimal(3:18),zstd"`
	Amount         int64     `parquet:"amount,decimal(3:18),zstd"`
	Currency       string    `parquet:"currency,zstd,dict"`
	Country        string    `parquet:"country,zstd,dict"`
	EventTime      time.Time `parquet:"event_time,timestamp(microsecond),zstd"`
	Source         string    `parquet:"source,zstd"`
	Origin         string    `parquet:"origin,zstd"`
	KafkaPartition int32     `parquet:"kafka_partition,zstd"`
	KafkaOffset    int64     `parquet:"kafka_offset,zstd"`
}

// ActivityRow is one clean clickstream event.
type ActivityRow struct {
	EventID        string    `parquet:"event_id,zstd"`
	UserPseudonym  string    `parquet:"user_pseudonym,zstd"`
	SessionID      string    `parquet:"session_id,zstd"`
	Type           string    `parquet:"type,zstd,dict"`
	ProductID      string    `parquet:"product_id,zstd,dict"`
	Page           string    `parquet:"page,zstd"`
	Referrer       string    `parquet:"referrer,zstd,dict"`
	Query          string    `parquet:"query,zstd"`
	EventTime      time.Time `parquet:"event_time,timestamp(microsecond),zstd"`
	Origin         string    `parquet:"origin,zstd"`
	KafkaPartition int32     `parquet:"kafka_partition,zstd"`
	KafkaOffset    int64     `parquet:"kafka_offset,zstd"`
}

// InventoryRow is one standardized inventory record. Price and Cost are NULL when the record does
// not carry them (event.InventoryRecord's nil).
type InventoryRow struct {
	EventID        string    `parquet:"event_id,zstd"`
	Type           string    `parquet:"type,zstd,dict"`
	SKU            string    `parquet:"sku,zstd,dict"`
	Name           string    `parquet:"name,zstd"`
	Category       string    `parquet:"category,zstd,dict"`
	Price          *int64    `parquet:"price,decimal(3:18),optional,zstd"`
	Cost           *int64    `parquet:"cost,decimal(3:18),optional,zstd"`
	Units          int64     `parquet:"units,zstd"`
	EventTime      time.Time `parquet:"event_time,timestamp(microsecond),zstd"`
	Source         string    `parquet:"source,zstd"`
	Origin         string    `parquet:"origin,zstd"`
	KafkaPartition int32     `parquet:"kafka_partition,zstd"`
	KafkaOffset    int64     `parquet:"kafka_offset,zstd"`
}

// FeedbackRow is one clean review; the reviewer is a pseudonym.
type FeedbackRow struct {
	ReviewID       string    `parquet:"review_id,zstd"`
	UserPseudonym  string    `parquet:"user_pseudonym,zstd"`
	ProductID      string    `parquet:"product_id,zstd,dict"`
	Rating         int32     `parquet:"rating,zstd"`
	Title          string    `parquet:"title,zstd"`
	Text           string    `parquet:"text,zstd"`
	EventTime      time.Time `parquet:"event_time,timestamp(microsecond),zstd"`
	Origin         string    `parquet:"origin,zstd"`
	KafkaPartition int32     `parquet:"kafka_partition,zstd"`
	KafkaOffset    int64     `parquet:"kafka_offset,zstd"`
}

// JourneyRow is one purchase journey (processors/journeys): the session that led to an order. Its
// date is the UTC date of the purchase. SessionStart is NULL when no activity preceded the
// purchase; SecondsToPurchase is NULL without a product view. Amount is DECIMAL(18,3).
type JourneyRow struct {
	UserPseudonym     string     `parquet:"user_pseudonym,zstd"`
	OrderID           string     `parquet:"order_id,zstd"`
	PurchaseTime      time.Time  `parquet:"purchase_time,timestamp(microsecond),zstd"`
	SessionID         string     `parquet:"session_id,zstd"`
	SessionStart      *time.Time `parquet:"session_start,timestamp(microsecond),optional,zstd"`
	SessionSeconds    int64      `parquet:"session_seconds,zstd"`
	Events            int64      `parquet:"events,zstd"`
	PageViews         int64      `parquet:"page_views,zstd"`
	ProductViews      int64      `parquet:"product_views,zstd"`
	CartAdds          int64      `parquet:"cart_adds,zstd"`
	Viewed            []string   `parquet:"viewed,list,zstd"`
	Bought            []string   `parquet:"bought,list,zstd"`
	ViewedThenBought  int64      `parquet:"viewed_then_bought,zstd"`
	SecondsToPurchase *int64     `parquet:"seconds_to_purchase,optional,zstd"`
	EntryReferrer     string     `parquet:"entry_referrer,zstd,dict"`
	Lines             int64      `parquet:"lines,zstd"`
	Units             int64      `parquet:"units,zstd"`
	Amount            int64      `parquet:"amount,decimal(3:18),zstd"`
	Origin            string     `parquet:"origin,zstd"`
	KafkaPartition    int32      `parquet:"kafka_partition,zstd"`
	KafkaOffset       int64      `parquet:"kafka_offset,zstd"`
}

// Every row also carries its lineage: Origin is the raw record it was derived from
// ("topic/partition/offset", the fence header; a processor restarted after a crash may emit a record
// twice, and the copies share it), KafkaPartition and KafkaOffset locate it in its clean topic.

// Dataset is one archived clean topic: its folder name, its topic and how a record becomes a row.
type Dataset struct {
	Name  string
	Topic goka.Stream
	// decode turns a record value into a row (boxed) and its event time.
	decode func(value []byte, origin string, partition int32, offset int64) (any, time.Time, error)
	// open starts a typed Parquet writer.
	open func(w writerTarget, o options) rowWriter
	// fenced: every raw record becomes exactly one record of this topic, so a second record with
	// an origin at or below the highest seen from its raw partition is a redelivery and is dropped.
	// Journeys are not fenced: one input record may release several journeys, all with its origin.
	fenced bool
}

// Datasets lists the archived topics.
var Datasets = []Dataset{
	{Transactions, topology.CleanTransactions, decodeTransaction, openWriter[TransactionRow], true},
	{Activity, topology.CleanActivity, decodeActivity, openWriter[ActivityRow], true},
	{Inventory, topology.CleanInventory, decodeInventory, openWriter[InventoryRow], true},
	{Feedback, topology.CleanFeedback, decodeFeedback, openWriter[FeedbackRow], true},
	{Journeys, topology.Journeys, decodeJourney, openWriter[JourneyRow], false},
}

// FindDataset returns the dataset named name.
func FindDataset(name string) (Dataset, bool) {
	for _, d := range Datasets {
		if d.Name == name {
			return d, true
		}
	}
	return Dataset{}, false
}

func decodeTransaction(v []byte, origin string, p int32, off int64) (any, time.Time, error) {
	l, err := codecs.DecodeTransactionLine(v)
	if err != nil {
		return nil, time.Time{}, err
	}
	amount, err := l.Amount()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("amount of line %s: %w", l.LineID, err)
	}
	t := l.Time.UTC()
	return TransactionRow{
		LineID: l.LineID, OrderID: l.OrderID, Type: string(l.Type), UserPseudonym: l.UserID,
		ProductID: l.ProductID, Description: l.Description, Quantity: l.Quantity,
		UnitPrice: int64(l.UnitPrice), Amount: int64(amount), Currency: l.Currency, Country: l.Country,
		EventTime: t, Source: l.Source, Origin: origin, KafkaPartition: p, KafkaOffset: off,
	}, t, nil
}

func decodeActivity(v []byte, origin string, p int32, off int64) (any, time.Time, error) {
	a, err := codecs.DecodeActivity(v)
	if err != nil {
		return nil, time.Time{}, err
	}
	t := a.Time.UTC()
	return ActivityRow{
		EventID: a.EventID, UserPseudonym: a.UserID, SessionID: a.SessionID, Type: string(a.Type),
		ProductID: a.ProductID, Page: a.Page, Referrer: a.Referrer, Query: a.Query, EventTime: t,
		Origin: origin, KafkaPartition: p, KafkaOffset: off,
	}, t, nil
}

func decodeInventory(v []byte, origin string, p int32, off int64) (any, time.Time, error) {
	r, err := codecs.DecodeInventoryRecord(v)
	if err != nil {
		return nil, time.Time{}, err
	}
	t := r.Time.UTC()
	return InventoryRow{
		EventID: r.EventID, Type: string(r.Type), SKU: r.SKU, Name: r.Name, Category: r.Category,
		Price: moneyPtr(r.Price), Cost: moneyPtr(r.Cost), Units: r.Units, EventTime: t, Source: r.Source,
		Origin: origin, KafkaPartition: p, KafkaOffset: off,
	}, t, nil
}

func decodeFeedback(v []byte, origin string, p int32, off int64) (any, time.Time, error) {
	r, err := codecs.DecodeReview(v)
	if err != nil {
		return nil, time.Time{}, err
	}
	t := r.Time.UTC()
	return FeedbackRow{
		ReviewID: r.ReviewID, UserPseudonym: r.UserID, ProductID: r.ProductID, Rating: int32(r.Rating),
		Title: r.Title, Text: r.Text, EventTime: t, Origin: origin, KafkaPartition: p, KafkaOffset: off,
	}, t, nil
}

func decodeJourney(v []byte, origin string, p int32, off int64) (any, time.Time, error) {
	d, err := journeys.JourneyCodec{}.Decode(v)
	if err != nil {
		return nil, time.Time{}, err
	}
	j := d.(*journeys.Journey)
	t := j.PurchaseTime.UTC()
	var start *time.Time
	if !j.SessionStart.IsZero() {
		s := j.SessionStart.UTC()
		start = &s
	}
	return JourneyRow{
		UserPseudonym: j.UserID, OrderID: j.OrderID, PurchaseTime: t, SessionID: j.SessionID,
		SessionStart: start, SessionSeconds: j.SessionSeconds, Events: j.Events, PageViews: j.PageViews,
		ProductViews: j.ProductViews, CartAdds: j.CartAdds, Viewed: j.Viewed, Bought: j.Bought,
		ViewedThenBought: j.ViewedThenBought, SecondsToPurchase: j.SecondsToPurchase,
		EntryReferrer: j.EntryReferrer, Lines: j.Lines, Units: j.Units, Amount: int64(j.Amount),
		Origin: origin, KafkaPartition: p, KafkaOffset: off,
	}, t, nil
}

func moneyPtr(m *event.Money) *int64 {
	if m == nil {
		return nil
	}
	v := int64(*m)
	return &v
}
