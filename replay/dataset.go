package replay

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/processors/topology"
)

// dataset is the kind of events a file holds; it decides the topic, the key and the event type.
type dataset string

// The datasets of docs/formats.md.
const (
	dsTransactions dataset = "transactions"
	dsInventory    dataset = "inventory"
	dsActivity     dataset = "activity"
	dsFeedback     dataset = "feedback"
)

var datasets = []dataset{dsTransactions, dsInventory, dsActivity, dsFeedback}

func validDataset(s string) bool { return slices.Contains(datasets, dataset(s)) }

func datasetNames() string {
	names := make([]string, len(datasets))
	for i, d := range datasets {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}

// topic returns the raw topic the dataset is replayed to.
func (d dataset) topic() goka.Stream {
	switch d {
	case dsTransactions:
		return topology.Transactions
	case dsInventory:
		return topology.Inventory
	case dsActivity:
		return topology.Activity
	case dsFeedback:
		return topology.Feedback
	}
	return ""
}

// fields lists the event fields (JSON names in package event) a mapping can fill.
func (d dataset) fields() []string {
	switch d {
	case dsTransactions:
		return []string{"line_id", "order_id", "type", "user_id", "product_id", "description", "quantity", "unit_price", "currency", "country", "time"}
	case dsInventory:
		return []string{"event_id", "type", "sku", "name", "category", "price", "cost", "quantity", "time"}
	case dsActivity:
		return []string{"event_id", "user_id", "session_id", "type", "product_id", "page", "referrer", "query", "time"}
	case dsFeedback:
		return []string{"review_id", "user_id", "product_id", "rating", "title", "text", "time"}
	}
	return nil
}

// defaultKey is the record key of docs/formats.md "Keys on the raw topics".
func (d dataset) defaultKey() string {
	switch d {
	case dsTransactions:
		return "line_id"
	case dsInventory:
		return "sku"
	case dsActivity:
		return "user_id"
	case dsFeedback:
		return "review_id"
	}
	return ""
}

// datasetFromPath takes the dataset from the parent folder's name, else from a file name that
// starts with a dataset's name ("activity-2024-03-01.json").
func datasetFromPath(path string) (dataset, bool) {
	parent := strings.ToLower(filepath.Base(filepath.Dir(path)))
	if validDataset(parent) {
		return dataset(parent), true
	}
	name := strings.ToLower(filepath.Base(path))
	for _, d := range datasets {
		if strings.HasPrefix(name, string(d)) {
			return d, true
		}
	}
	return "", false
}
