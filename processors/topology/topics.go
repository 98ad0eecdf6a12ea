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
)
