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
	Transactions dataset = "transactions"
	Inventory    dataset = "inventory"
	Activity     dataset = "activity"
	Feedback     dataset = "feedback"
)

var datasets = []dataset{Transactions, Inventory, Activity, Feedback}

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
	case Transactions:
		return topology.Transactions
	case Inventory:
		return topology.Inventory
	case Activity:
		return topology.Activity
	case Feedback:
		return topology.Feedback
	}
	return ""
}

// fields lists the event fields (JSON names in package event) a mapping can fill.
func (d dataset) fields() []string {
	switch d {
	case Transactions:
		return []string{"line_id", "order_id", "type", "user_id", "product_id", "description", "quantity", "unit_price", "currency", "country", "time"}
	case Inventory:
		return []string{"event_id", "type", "sku", "name", "category", "price", "cost", "quantity", "time"}
	case Activity:
		return []string{"event_id", "user_id", "session_id", "type", "product_id", "page", "referrer", "query", "time"}
	case Feedback:
		return []string{"review_id", "user_id", "product_id", "rating", "title", "text", "time"}
	}
	return nil
}

// defaultKey is the record key of docs/formats.md "Keys on the raw topics".
func (d dataset) defaultKey() string {
	switch d {
	case Transactions:
		return "line_id"
	case Inventory:
		return "sku"
	case Activity:
		return "user_id"
	case Feedback:
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
