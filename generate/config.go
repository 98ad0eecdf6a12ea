package generate

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrConfig is returned (wrapped, naming the field) by Config.Validate and Run for an unusable Config.
var ErrConfig = errors.New("generate: invalid config")

// Form is how a JSON dataset (activity, feedback) is laid out in its daily file.
type Form string

// The JSON file forms.
const (
	FormArray  Form = "array"  // one JSON array of objects per file (.json)
	FormNDJSON Form = "ndjson" // one object a line (.ndjson)
)

// Rates are the probabilities of each kind of dirt, per record of the dataset they name. A record
// gets at most one defect, so the rates of one dataset must add up to at most 1.
type Rates struct {
	// Transactions, rejected by the gateway.
	TxMissingUser    float64 `json:"tx_missing_user"`    // empty user_id → missing_user
	TxBadPrice       float64 `json:"tx_bad_price"`       // unit_price 0 or negative → bad_price
	TxBadQuantity    float64 `json:"tx_bad_quantity"`    // quantity 0 or negative → bad_quantity
	TxMissingProduct float64 `json:"tx_missing_product"` // empty product_id → missing_product
	TxBadType        float64 `json:"tx_bad_type"`        // unknown type → bad_type
	// Transactions that replay cannot parse.
	TxMalformed float64 `json:"tx_malformed"` // wrong field count → malformed
	TxBadField  float64 `json:"tx_bad_field"` // quantity "abc" → bad_field
	// TxDuplicate is the share of good lines written a second time (a producer retry), later in the
	// same day's file or in the next day's.
	TxDuplicate float64 `json:"tx_duplicate"`

	// Inventory: messy but cleanable (accepted after standardization), per row that has the field.
	InvMessySKU      float64 `json:"inv_messy_sku"`      // " p0007 " for "P0007"
	InvMessyPrice    float64 `json:"inv_messy_price"`    // "$1,299.00" for "1299.00"
	InvMessyQuantity float64 `json:"inv_messy_quantity"` // "12 pcs" for "12"
	InvMessyCategory float64 `json:"inv_messy_category"` // "home and kitchen" for "Home & Kitchen"
	// Inventory defects.
	InvNegativeStock float64 `json:"inv_negative_stock"` // a stock_report with negative units → bad_quantity
	InvDuplicate     float64 `json:"inv_duplicate"`      // the same row (same event_id) twice

	// Activity.
	ActTruncated     float64 `json:"act_truncated"`      // NDJSON line cut in the middle → malformed
	ActTruncatedFile float64 `json:"act_truncated_file"` // per JSON-array file: the end cut inside the last object → 1 malformed
	ActMissingUser   float64 `json:"act_missing_user"`   // empty user_id → missing_user
	ActBadType       float64 `json:"act_bad_type"`       // unknown type → bad_type

	// Feedback.
	FbBadRating   float64 `json:"fb_bad_rating"`   // rating 0 or 6 → bad_rating
	FbMissingUser float64 `json:"fb_missing_user"` // empty user_id → missing_user
}

// DefaultRates are small rates (1–2 %) of every kind of dirt.
func DefaultRates() Rates {
	return Rates{
		TxMissingUser: 0.01, TxBadPrice: 0.01, TxBadQuantity: 0.01, TxMissingProduct: 0.01, TxBadType: 0.01,
		TxMalformed: 0.01, TxBadField: 0.01, TxDuplicate: 0.02,
		InvMessySKU: 0.05, InvMessyPrice: 0.2, InvMessyQuantity: 0.1, InvMessyCategory: 0.3,
		InvNegativeStock: 0.01, InvDuplicate: 0.01,
		ActTruncated: 0.01, ActTruncatedFile: 0.2, ActMissingUser: 0.01, ActBadType: 0.01,
		FbBadRating: 0.02, FbMissingUser: 0.01,
	}
}

// Scaled returns r with every rate multiplied by f (0 gives clean data); a CLI's --dirt factor.
// The result may need Validate: rates of one dataset must still add up to at most 1.
func (r Rates) Scaled(f float64) Rates {
	for _, p := range []*float64{
		&r.TxMissingUser, &r.TxBadPrice, &r.TxBadQuantity, &r.TxMissingProduct, &r.TxBadType, &r.TxMalformed, &r.TxBadField, &r.TxDuplicate,
		&r.InvMessySKU, &r.InvMessyPrice, &r.InvMessyQuantity, &r.InvMessyCategory, &r.InvNegativeStock, &r.InvDuplicate,
		&r.ActTruncated, &r.ActTruncatedFile, &r.ActMissingUser, &r.ActBadType, &r.FbBadRating, &r.FbMissingUser,
	} {
		*p = min(*p*f, 1)
	}
	return r
}

// Config describes one generated history. Start it from DefaultConfig or a preset.
type Config struct {
	Seed  uint64    `json:"seed"`
	Start time.Time `json:"start"` // first day, midnight UTC
	Days  int       `json:"days"`

	Users    int `json:"users"`
	Products int `json:"products"`
	// SessionsPerDay is the mean number of ordinary sessions a day (each day varies by up to ±10 %).
	// When TargetEvents is set it wins: SessionsPerDay is derived from it.
	SessionsPerDay int `json:"sessions_per_day"`
	// TargetEvents is the approximate number of rows to write over all datasets (0: unused).
	TargetEvents int64 `json:"target_events,omitempty"`

	Dirt Rates `json:"dirt"`

	Gzip         bool `json:"gzip"`
	ActivityForm Form `json:"activity_form"`
	FeedbackForm Form `json:"feedback_form"`

	// Spikes is the number of injected activity spike minutes, placed after the first hour.
	Spikes int `json:"spikes"`
	// SpikeFactor is how many times the day's mean events per minute a spike adds (≥ 5).
	SpikeFactor int `json:"spike_factor"`

	// Dir is the output directory; it is created when missing.
	Dir string `json:"-"`
	// Overwrite lets Run replace an earlier history in Dir (its dataset folders and truth.json are
	// removed first, so no stale day is left for a replay of the folder to pick up).
	Overwrite bool `json:"-"`
	// Workers is the number of days generated at once (0: GOMAXPROCS). The output does not depend on it.
	Workers int `json:"-"`
}

// DefaultConfig is a one-week history of a small shop, with default dirt.
func DefaultConfig() Config {
	return Config{
		Seed:           1,
		Start:          time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		Days:           7,
		Users:          2000,
		Products:       200,
		SessionsPerDay: 1000,
		Dirt:           DefaultRates(),
		ActivityForm:   FormArray,
		FeedbackForm:   FormNDJSON,
		Spikes:         3,
		SpikeFactor:    10,
	}
}

// Tiny is a three-day history of a few thousand rows, for unit tests (generated in milliseconds).
// It spans the end of February of a leap year, so it has two months.
func Tiny() Config {
	c := DefaultConfig()
	c.Start = time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC)
	c.Days = 3
	c.Users = 300
	c.Products = 40
	c.SessionsPerDay = 200
	c.Spikes = 2
	// Few lines at default rates could miss a kind of dirt; tests want every kind.
	c.Dirt.TxMissingUser, c.Dirt.TxBadPrice, c.Dirt.TxBadQuantity, c.Dirt.TxMissingProduct = 0.03, 0.03, 0.03, 0.03
	c.Dirt.TxBadType, c.Dirt.TxMalformed, c.Dirt.TxBadField, c.Dirt.TxDuplicate = 0.03, 0.03, 0.03, 0.04
	c.Dirt.InvNegativeStock, c.Dirt.InvDuplicate = 0.03, 0.03
	c.Dirt.FbBadRating, c.Dirt.FbMissingUser = 0.1, 0.1
	c.ActivityForm = FormNDJSON
	return c
}

// Small is about 100k rows over two weeks across a month boundary.
func Small() Config {
	c := DefaultConfig()
	c.Start = time.Date(2024, 2, 22, 0, 0, 0, 0, time.UTC)
	c.Days = 14
	c.Users = 5000
	c.Products = 300
	c.TargetEvents = 100_000
	c.Spikes = 4
	return c
}

// Medium is about 1M rows over 30 days (the replay acceptance size).
func Medium() Config {
	c := DefaultConfig()
	c.Start = time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC)
	c.Days = 30
	c.Users = 50_000
	c.Products = 1000
	c.TargetEvents = 1_000_000
	c.Spikes = 8
	return c
}

// Large is at least 10M rows over 60 days, gzipped, for benchmarks.
func Large() Config {
	c := DefaultConfig()
	c.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Days = 60
	c.Users = 200_000
	c.Products = 2000
	c.TargetEvents = 10_500_000
	c.Spikes = 12
	c.Gzip = true
	return c
}

// PresetNames lists the names Preset knows.
var PresetNames = []string{"tiny", "small", "medium", "large", "default"}

// Preset returns the named preset (see PresetNames).
func Preset(name string) (Config, error) {
	switch name {
	case "tiny":
		return Tiny(), nil
	case "small":
		return Small(), nil
	case "medium":
		return Medium(), nil
	case "large":
		return Large(), nil
	case "default", "":
		return DefaultConfig(), nil
	}
	return Config{}, fmt.Errorf("%w: unknown preset %q (one of %s)", ErrConfig, name, strings.Join(PresetNames, ", "))
}

// Validate reports the first unusable field.
func (c *Config) Validate() error {
	bad := func(field, why string) error { return fmt.Errorf("%w: %s: %s", ErrConfig, field, why) }
	switch {
	case c.Start.IsZero() || c.Start.Location() != time.UTC || !c.Start.Equal(c.Start.Truncate(24*time.Hour)):
		return bad("Start", "must be a midnight in UTC")
	case c.Start.Year() < 2000 || c.Start.Year() > 2090:
		return bad("Start", "must be within 2000..2090")
	case c.Days < 1 || c.Days > 3660:
		return bad("Days", "must be within 1..3660")
	case c.Users < 10:
		return bad("Users", "must be ≥ 10")
	case c.Products < 10 || c.Products > 999_999:
		return bad("Products", "must be within 10..999999")
	case c.SessionsPerDay < 1 && c.TargetEvents <= 0:
		return bad("SessionsPerDay", "must be ≥ 1 unless TargetEvents is set")
	case c.TargetEvents < 0:
		return bad("TargetEvents", "must be ≥ 0")
	case c.ActivityForm != FormArray && c.ActivityForm != FormNDJSON:
		return bad("ActivityForm", "must be array or ndjson")
	case c.FeedbackForm != FormArray && c.FeedbackForm != FormNDJSON:
		return bad("FeedbackForm", "must be array or ndjson")
	case c.Spikes < 0:
		return bad("Spikes", "must be ≥ 0")
	case c.Spikes > 0 && c.SpikeFactor < 5:
		return bad("SpikeFactor", "must be ≥ 5")
	case c.Spikes > (c.Days*24-1)*6:
		return bad("Spikes", "too many for the number of days")
	case c.Dir == "":
		return bad("Dir", "is empty")
	case c.Workers < 0:
		return bad("Workers", "must be ≥ 0")
	}
	return c.Dirt.validate()
}

func (r *Rates) validate() error {
	groups := []struct {
		name  string
		rates []float64
	}{
		{"transactions", []float64{r.TxMissingUser, r.TxBadPrice, r.TxBadQuantity, r.TxMissingProduct, r.TxBadType, r.TxMalformed, r.TxBadField, r.TxDuplicate}},
		{"inventory", []float64{r.InvNegativeStock, r.InvDuplicate}},
		{"activity", []float64{r.ActTruncated, r.ActMissingUser, r.ActBadType}},
		{"feedback", []float64{r.FbBadRating, r.FbMissingUser}},
		{"inventory mess", []float64{r.InvMessySKU}},
		{"inventory mess", []float64{r.InvMessyPrice}},
		{"inventory mess", []float64{r.InvMessyQuantity}},
		{"inventory mess", []float64{r.InvMessyCategory}},
		{"activity files", []float64{r.ActTruncatedFile}},
	}
	for _, g := range groups {
		sum := 0.0
		for _, v := range g.rates {
			if v < 0 || v > 1 {
				return fmt.Errorf("%w: Dirt: %s rate %v outside 0..1", ErrConfig, g.name, v)
			}
			sum += v
		}
		if sum > 1 {
			return fmt.Errorf("%w: Dirt: %s rates add up to %v > 1", ErrConfig, g.name, sum)
		}
	}
	return nil
}

// sessionsPerDay resolves TargetEvents into a session count: inventory writes about 1.2 rows per
// product a day (plus product info on the first day), every session about 7.2 rows over the other
// datasets (activity dominates). TestPresetSizes checks the calibration.
func (c *Config) sessionsPerDay() int {
	if c.TargetEvents <= 0 {
		return c.SessionsPerDay
	}
	inventory := float64(c.Products) * (1.2*float64(c.Days) + 2)
	n := int((float64(c.TargetEvents) - inventory) / rowsPerSession / float64(c.Days))
	return max(n, 1)
}

const rowsPerSession = 7.2
