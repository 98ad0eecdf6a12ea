// Package processors holds the ShopEase goka processors, one package each, and the topology that
// wires them.
//
// Topics (names in package topology, defined once):
//
//	shopease.activity      raw clickstream             key: raw user id
//	shopease.transactions  raw purchase/refund/return   key: transaction line id
//	shopease.inventory     raw inventory updates        key: SKU as received
//	shopease.feedback      raw reviews                  key: review id
//	shopease.deadletter    rejected records             key: source (file:line or topic/partition/offset)
//
// Every topic that one processor consumes together (its inputs, its group table, joined tables)
// must be co-partitioned: same partition count and the same key, because goka joins partition i of
// each input with partition i of the others. topology.CheckCopartitioned verifies it against the
// cluster, and `shopease topics describe` reports it.
//
// Processors (`shopease run` runs all of them; see Run):
//
//	transactions   shopease.transactions (line id) → validate, dedupe by line id (table), pseudonymize
//	               → shopease.clean.transactions (pseudonym), shopease.sales (product id)
//	activity       shopease.activity (raw user id) → validate, pseudonymize (stateless)
//	               → shopease.clean.activity (pseudonym)
//	inventory      shopease.inventory (SKU as received) → standardize (stateless)
//	               → shopease.clean.inventory (canonical SKU) → product table with daily closing stock
//	feedback       shopease.feedback (review id) → validate, dedupe (table), pseudonymize
//	               → shopease.clean.feedback (product id) → ratings table per product
//	sales          shopease.sales (product id) → per product per UTC month: units, gross, refunds,
//	               returns (table) → shopease.sales.orders ("month|order id")
//	revenue        shopease.sales.orders → per order per month (table); a month's revenue and
//	               orders are the sums over its keys (reports)
//	journeys       shopease.clean.activity ⋈ shopease.clean.transactions (both keyed by pseudonym,
//	               co-partitioned) → one journey per purchase → shopease.journeys (pseudonym)
//	every gateway  rejected records → shopease.deadletter (origin, reason, original bytes)
//
// updatecount is the small processor that first proved the stack (goka + sarama + Pebble on
// kfake and real Kafka); it is not part of the group.
//
// Exactness under at-least-once delivery: see package fence.
package processors
