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
// Processors so far:
//
//	updatecount  shopease.inventory → table of record counts per SKU (the stack's proving path)
package processors
