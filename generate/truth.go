package generate

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/shopease/shopease/event"
)

// The dataset names, as in docs/formats.md (folder names and Truth.Datasets keys).
const (
	DatasetActivity     = "activity"
	DatasetTransactions = "transactions"
	DatasetInventory    = "inventory"
	DatasetFeedback     = "feedback"
)

// Truth is the ground truth of a generated history, computed by the generator from what it wrote.
// docs/formats.md "Ground truth" gives the exact rule behind every field. It holds counts and
// product ids only: no user id.
type Truth struct {
	Config Config    `json:"config"`
	Start  time.Time `json:"start"` // first event time allowed (inclusive)
	End    time.Time `json:"end"`   // exclusive

	// Datasets by name: activity, feedback, inventory, transactions.
	Datasets map[string]*DatasetTruth `json:"datasets"`
	// Months in order, each UTC calendar month that has a day in [Start, End).
	Months []MonthTruth `json:"months"`
	// TopProducts per month: the 10 products with most units in accepted purchase lines.
	TopProducts []MonthTop `json:"top_products"`
	// Minutes with at least one accepted activity event or purchase line, in order.
	Minutes []MinuteTruth `json:"minutes"`
	// Spikes are the injected spike minutes, in order.
	Spikes []Spike `json:"spikes"`
	// MaxOrdinaryMinuteEvents is the most accepted activity events in any minute that is not a
	// spike: a spike detector must stay quiet below it (spikes have ≥ 100 injected events).
	MaxOrdinaryMinuteEvents int64 `json:"max_ordinary_minute_events"`
	// ProductMonths: every product × every month, ordered by month then product id.
	ProductMonths []ProductMonth `json:"product_months"`
	// Ratings of accepted reviews per product, ordered by product id (products with reviews only).
	Ratings []ProductRating `json:"ratings"`
}

// DatasetTruth counts one dataset's rows by fate. Rows = Σ Unparseable + Σ Rejected + Duplicates +
// Accepted; Sent = Rows − Σ Unparseable is what replay writes to the raw topic.
type DatasetTruth struct {
	Rows        int64                  `json:"rows"`
	Sent        int64                  `json:"sent"`
	Unparseable map[event.Reason]int64 `json:"unparseable"` // decided by replay
	Rejected    map[event.Reason]int64 `json:"rejected"`    // decided by the gateway
	Duplicates  int64                  `json:"duplicates"`  // re-sent records, counted once
	Accepted    int64                  `json:"accepted"`
	// AcceptedByType counts accepted records per type field.
	AcceptedByType map[string]int64 `json:"accepted_by_type"`
	Files          []FileTruth      `json:"files"`
}

// FileTruth is one written file: its path relative to the output dir, its data rows (CSV header
// excluded; a cut JSON object counts as a row) and the rows replay cannot parse.
type FileTruth struct {
	Path        string `json:"path"`
	Rows        int64  `json:"rows"`
	Unparseable int64  `json:"unparseable"`
}

// MonthTruth is the revenue of one UTC month from accepted transaction lines (line amount =
// quantity × unit price; refunds and returns negative; Net = Gross + Refunds + Returns).
type MonthTruth struct {
	Month   string      `json:"month"` // "2024-03"
	Gross   event.Money `json:"gross"`
	Refunds event.Money `json:"refunds"`
	Returns event.Money `json:"returns"`
	Net     event.Money `json:"net"`
	// Orders is the number of distinct order ids with ≥ 1 accepted purchase line in the month.
	Orders        int64 `json:"orders"`
	PurchaseLines int64 `json:"purchase_lines"`
	RefundLines   int64 `json:"refund_lines"`
	ReturnLines   int64 `json:"return_lines"`
	PurchaseUnits int64 `json:"purchase_units"`
}

// MonthTop is the top-10 of one month by units, ties by product id.
type MonthTop struct {
	Month    string         `json:"month"`
	Products []ProductUnits `json:"products"`
}

// ProductUnits is one entry of a top list.
type ProductUnits struct {
	ProductID string `json:"product_id"`
	Units     int64  `json:"units"`
}

// MinuteTruth is one UTC minute [Minute, Minute+60 s) of event time.
type MinuteTruth struct {
	Minute      time.Time `json:"minute"`
	ActiveUsers int64     `json:"active_users"` // distinct users with ≥ 1 accepted activity event
	Purchasers  int64     `json:"purchasers"`   // distinct users with ≥ 1 accepted purchase line
	Events      int64     `json:"events"`       // accepted activity events
	// ByType counts accepted activity events per type (types with a zero count are left out).
	ByType map[string]int64 `json:"by_type"`
}

// Spike is an injected activity spike minute.
type Spike struct {
	Minute   time.Time `json:"minute"`
	Injected int64     `json:"injected"` // events added on top of the ordinary traffic
	Events   int64     `json:"events"`   // accepted activity events in the minute, all told
	// DayMeanPerMinute is the day's ordinary events per minute (rounded to 0.01).
	DayMeanPerMinute float64 `json:"day_mean_per_minute"`
}

// ProductMonth is one product in one month: sales from accepted transaction lines, and the
// inventory-turnover inputs from accepted stock reports (docs/formats.md gives the rule).
type ProductMonth struct {
	ProductID     string      `json:"product_id"`
	Month         string      `json:"month"`
	UnitsSold     int64       `json:"units_sold"`     // Σ quantity of accepted purchase lines
	UnitsReturned int64       `json:"units_returned"` // Σ quantity of accepted return lines
	Gross         event.Money `json:"gross"`          // Σ purchase line amounts
	Revenue       event.Money `json:"revenue"`        // Σ signed amounts of purchase, refund and return lines
	UnitCost      event.Money `json:"unit_cost"`      // cost of one unit (constant per product)
	COGS          event.Money `json:"cogs"`           // UnitsSold × UnitCost
	// ClosingDays is the number of days of the month (within the history) with a known closing
	// level; ClosingUnitsSum adds those levels; their ratio is the average on-hand units.
	ClosingDays     int64       `json:"closing_days"`
	ClosingUnitsSum int64       `json:"closing_units_sum"`
	ClosingValueSum event.Money `json:"closing_value_sum"` // Σ level × UnitCost over the same days
	AvgOnHand       float64     `json:"avg_on_hand"`       // ClosingUnitsSum / ClosingDays (0 when no days)
	// AvgInventoryValue is ClosingValueSum / ClosingDays rounded to a cent, for display.
	AvgInventoryValue event.Money `json:"avg_inventory_value"`
}

// ProductRating aggregates a product's accepted reviews.
type ProductRating struct {
	ProductID string   `json:"product_id"`
	Count     int64    `json:"count"`
	Sum       int64    `json:"sum"`
	Dist      [5]int64 `json:"dist"` // reviews with rating 1..5
}

// LoadTruth reads a truth.json written by Run.
func LoadTruth(path string) (*Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("generate: load truth: %w", err)
	}
	t := &Truth{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("generate: load truth %s: %w", path, err)
	}
	return t, nil
}

// Month returns the truth of month ("2024-03"), or nil.
func (t *Truth) Month(month string) *MonthTruth {
	for i := range t.Months {
		if t.Months[i].Month == month {
			return &t.Months[i]
		}
	}
	return nil
}

// TotalRows is the number of rows written over all datasets.
func (t *Truth) TotalRows() int64 {
	var n int64
	for _, d := range t.Datasets {
		n += d.Rows
	}
	return n
}

func (c *counts) truth(files []FileTruth) *DatasetTruth {
	d := &DatasetTruth{
		Rows: c.rows, Unparseable: c.unparseable, Rejected: c.rejected, Duplicates: c.duplicates,
		Accepted: c.accepted, AcceptedByType: c.byType, Files: files,
	}
	d.Sent = d.Rows
	for _, v := range c.unparseable {
		d.Sent -= v
	}
	return d
}

func monthOf(t time.Time) string { return t.UTC().Format("2006-01") }
