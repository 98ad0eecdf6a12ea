package processors

import (
	"github.com/lovoo/goka"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/processors/feedback"
	"github.com/shopease/shopease/processors/journeys"
	"github.com/shopease/shopease/processors/realtime"
	"github.com/shopease/shopease/processors/sales"
	"github.com/shopease/shopease/processors/topology"
	"github.com/shopease/shopease/processors/transactions"
	"github.com/shopease/shopease/processors/updatecount"
)

// Table is one goka group table of the topology: its group, the codec of its values and what a
// value holds. `shopease inspect` decodes with these codecs.
type Table struct {
	Group goka.Group
	Codec goka.Codec
	Doc   string
}

// Tables lists every group table, so tools find them by name; keys and values never hold raw
// user ids.
var Tables = []Table{
	{topology.TransactionsGroup, transactions.ClaimCodec{}, "key: transaction line id; value: the offset of the record that claimed it (dedupe)"},
	{topology.InventoryGroup, codecs.Product{}, "key: canonical SKU; value: product info, price, cost, on-hand units, daily closing stock"},
	{topology.FeedbackGroup, feedback.ClaimCodec{}, "key: review id; value: the offset of the record that claimed it (dedupe)"},
	{topology.RatingsGroup, feedback.RatingCodec{}, "key: product id; value: rating count, sum, distribution"},
	{topology.SalesGroup, sales.ProductSalesCodec{}, "key: product id; value: per UTC month units sold/refunded/returned, line counts, gross, refunds, returns; newest event time; fence"},
	{topology.RevenueGroup, sales.OrderMonthCodec{}, "key: month|order id; value: the order's sums in that month (monthly revenue and distinct orders are sums over a month's keys); fence"},
	{topology.JourneysGroup, journeys.UserCodec{}, "key: pseudonymous user id; value: recent activity, purchases waiting for their session to end, released journeys; fence"},
	{topology.RealtimeGroup, realtime.ValueCodec{}, "keys: pseudonymous user id (per recent minute the smallest origin of the user's activity and the event ids counted in it, fence); ~w/N/START (partition N's minute: events per type, active users, purchasers' set, closed, late, fence); ~part/N (partition N's raw source clocks and closed frontier); ~m/START (a minute over all partitions); ~spikes (spike detector)"},
	{topology.UpdateCountGroup, updatecount.CountCodec{}, "key: SKU as received; value: records counted (the proving processor, not in `run`)"},
}

// FindTable returns the table named name in namespace ns: its group name ("shopease-ratings") or
// its table topic ("shopease-ratings-table"), with or without the namespace prefix.
func FindTable(ns topology.Namespace, name string) (Table, bool) {
	for _, t := range Tables {
		for _, n := range []string{string(t.Group), string(goka.GroupTable(t.Group)),
			string(ns.Group(t.Group)), string(ns.Table(t.Group))} {
			if name == n {
				return t, true
			}
		}
	}
	return Table{}, false
}

// Inputs returns every consumer group of `shopease run` in namespace ns with the topics it
// consumes (goka's loop topics included), so that tools can tell when the pipeline has processed
// everything (lag 0 on all of them) and /metrics can report lag per group.
func Inputs(ns topology.Namespace) map[goka.Group][]goka.Stream {
	loop := func(g goka.Group) goka.Stream { return goka.Stream(string(ns.Group(g)) + "-loop") } // goka's loop topic name
	s := ns.Stream
	return map[goka.Group][]goka.Stream{
		ns.Group(topology.TransactionsGroup):   {s(topology.Transactions)},
		ns.Group(topology.ActivityGroup):       {s(topology.Activity)},
		ns.Group(topology.InventoryCleanGroup): {s(topology.Inventory)},
		ns.Group(topology.InventoryGroup):      {s(topology.CleanInventory)},
		ns.Group(topology.FeedbackGroup):       {s(topology.Feedback)},
		ns.Group(topology.RatingsGroup):        {s(topology.CleanFeedback)},
		ns.Group(topology.SalesGroup):          {s(topology.Sales)},
		ns.Group(topology.RevenueGroup):        {s(topology.SalesOrders)},
		ns.Group(topology.JourneysGroup):       {s(topology.CleanActivity), s(topology.CleanTransactions), loop(topology.JourneysGroup)},
		ns.Group(topology.RealtimeGroup):       {s(topology.CleanActivity), s(topology.CleanTransactions), loop(topology.RealtimeGroup)},
	}
}

// InputsOf is Inputs for the named processors only (Names; empty: all of them).
func InputsOf(ns topology.Namespace, names []string) map[goka.Group][]goka.Stream {
	in := Inputs(ns)
	out := map[goka.Group][]goka.Stream{}
	for _, r := range selected(names) {
		for _, g := range r.groups {
			out[ns.Group(g)] = in[ns.Group(g)]
		}
	}
	return out
}
