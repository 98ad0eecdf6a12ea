package topology

import "github.com/lovoo/goka"

// Namespace prefixes every topic and group name, so that several deployments (or tests) can share
// one Kafka cluster without seeing each other's data. The zero Namespace leaves names as defined
// above ("shopease.activity").
type Namespace string

// Stream returns the namespaced name of a topic.
func (ns Namespace) Stream(s goka.Stream) goka.Stream { return goka.Stream(string(ns) + string(s)) }

// Group returns the namespaced name of a processor group; its table topic is derived by goka
// (GROUP-table), so it is namespaced too.
func (ns Namespace) Group(g goka.Group) goka.Group { return goka.Group(string(ns) + string(g)) }

// Table returns the namespaced group table of g.
func (ns Namespace) Table(g goka.Group) goka.Table { return goka.GroupTable(ns.Group(g)) }
