package topology

import "github.com/lovoo/goka"

// Raw topics: written by replay and by live producers, read by the gateways. They may carry raw
// user ids, so they are restricted like the source systems.
const (
	Activity     goka.Stream = "shopease.activity"
	Transactions goka.Stream = "shopease.transactions"
	Inventory    goka.Stream = "shopease.inventory"
	Feedback     goka.Stream = "shopease.feedback"
	DeadLetter   goka.Stream = "shopease.deadletter"
)

// Clean topics: written by the processors, never carrying a raw user id. goka creates them (as
// output streams) with the raw topics' partition count, so joins stay co-partitioned.
const (
	// CleanActivity: validated clickstream; key: pseudonymous user id.
	CleanActivity goka.Stream = "shopease.clean.activity"
	// CleanTransactions: validated, deduplicated transaction lines; key: pseudonymous user id.
	CleanTransactions goka.Stream = "shopease.clean.transactions"
	// Sales: the same lines keyed by product id, for per-product aggregates.
	Sales goka.Stream = "shopease.sales"
	// CleanInventory: standardized inventory records; key: canonical SKU.
	CleanInventory goka.Stream = "shopease.clean.inventory"
	// CleanFeedback: validated reviews with pseudonymous reviewers; key: product id.
	CleanFeedback goka.Stream = "shopease.clean.feedback"
	// SalesOrders: the sales lines again, keyed by "month|order id" (UTC month of event time),
	// so that distinct orders per month are counted exactly by the revenue processor.
	SalesOrders goka.Stream = "shopease.sales.orders"
	// Journeys: one record per purchase; key: pseudonymous user id.
	Journeys goka.Stream = "shopease.journeys"
	// Alerts: activity spike alerts; key: metric name.
	Alerts goka.Stream = "shopease.alerts"
	// Late: events that arrived after their window closed (side output); key: pseudonymous user id.
	Late goka.Stream = "shopease.late"
)

// DefaultPartitions is the partition count of every topic unless configured otherwise. All topics
// share one count so that any two of them can be joined.
const DefaultPartitions = 8

// Topic describes one topic of the topology.
type Topic struct {
	Name goka.Stream
	// Key says what the record key is; co-partitioned topics must share it.
	Key string
	// Raw topics may hold raw user ids.
	Raw bool
	// Doc is one line for `shopease topics describe`.
	Doc string
}

// RawTopics lists the topics replay and live producers write. `shopease topics create` creates
// them; goka never creates input topics.
var RawTopics = []Topic{
	{Activity, "raw user id", true, "clickstream events"},
	{Transactions, "transaction line id", true, "purchase, refund and return lines"},
	{Inventory, "SKU as received", true, "stock reports, restocks, product info changes"},
	{Feedback, "review id", true, "reviews and ratings"},
	{DeadLetter, "source of the rejected record", true, "every rejected record with its original bytes"},
}

// Group names of the processors, defined here so that tables (GROUP-table) are named once too.
const (
	// UpdateCountGroup counts inventory records per SKU as received; it proves the stack end to end.
	UpdateCountGroup goka.Group = "shopease-update-count"
	// TransactionsGroup validates, dedupes (table keyed by line id) and pseudonymizes transactions.
	TransactionsGroup goka.Group = "shopease-transactions"
	// ActivityGroup validates and pseudonymizes the clickstream (stateless).
	ActivityGroup goka.Group = "shopease-activity"
	// InventoryCleanGroup standardizes inventory records and re-keys them by canonical SKU (stateless).
	InventoryCleanGroup goka.Group = "shopease-inventory-clean"
	// InventoryGroup keeps the product table (keyed by canonical SKU): info, price, cost, on-hand,
	// daily closing stock.
	InventoryGroup goka.Group = "shopease-inventory"
	// FeedbackGroup validates reviews and pseudonymizes reviewers (table keyed by review id, dedupe).
	FeedbackGroup goka.Group = "shopease-feedback"
	// RatingsGroup keeps per-product rating aggregates (keyed by product id).
	RatingsGroup goka.Group = "shopease-ratings"
	// RealtimeGroup keeps event-time windows of clean activity and purchases per partition (table
	// keyed by pseudonym for users, "~part/N", "~minute/START" and "~spikes" for windows) and
	// writes per-minute metrics to Redis and spike alerts to shopease.alerts.
	RealtimeGroup goka.Group = "shopease-realtime"
	// SalesGroup keeps per-product sales per UTC month (keyed by product id) and forwards every line
	// to SalesOrders.
	SalesGroup goka.Group = "shopease-sales"
	// RevenueGroup keeps per order and month the money and line counts (keyed by "month|order id");
	// monthly revenue and distinct orders are sums over its keys.
	RevenueGroup goka.Group = "shopease-revenue"
	// JourneysGroup joins clean activity and clean transactions per pseudonymous user (table keyed
	// by pseudonym) and emits one journey per purchase.
	JourneysGroup goka.Group = "shopease-journeys"
)
