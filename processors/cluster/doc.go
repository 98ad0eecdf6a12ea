// Package cluster turns one connection config (brokers, namespace, local state dir) into the sarama
// configuration and goka options that every ShopEase processor, view and emitter is built with, so
// the settings that make goka correct on a small cluster are chosen in one place.
package cluster
