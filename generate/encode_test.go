package generate

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/event"
)

// TestAppendMatchesMarshal: the hand-written encoders write exactly json.Marshal's bytes, which
// docs/formats.md promises (replay decodes the rows into the same structs).
func TestAppendMatchesMarshal(t *testing.T) {
	at := time.Date(2024, 3, 1, 10, 14, 2, 0, time.UTC)
	acts := []event.Activity{
		{EventID: "a20240301-0000001", UserID: "u000042", SessionID: "s1", Type: event.ProductView, ProductID: "P0007", Page: "/p/P0007", Referrer: "search", Time: at},
		{EventID: "a2", UserID: "", Type: "hover", Time: at},
		{EventID: "a3", UserID: "u1", Type: event.Search, Query: "tea <pot> & \"cup\"\\\n\t\x01 \u2028 é", Time: at},
	}
	for _, a := range acts {
		want, _ := json.Marshal(a)
		if got := appendActivity(nil, &a); string(got) != string(want) {
			t.Errorf("activity:\n got %s\nwant %s", got, want)
		}
	}
	reviews := []event.Review{
		{ReviewID: "r1", UserID: "u1", ProductID: "P0001", Rating: 5, Title: "Great", Text: "Excellent quality & fast delivery!", Time: at},
		{ReviewID: "r2", UserID: "", ProductID: "P0001", Rating: 0, Time: at},
	}
	for _, v := range reviews {
		want, _ := json.Marshal(v)
		if got := appendReview(nil, &v); string(got) != string(want) {
			t.Errorf("review:\n got %s\nwant %s", got, want)
		}
	}
}

func TestMessyFormats(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1299.00", "$1,299.00"}, {"4.95", "$4.95"}, {"123456.70", "$123,456.70"}, {"999.99", "$999.99"},
	} {
		if got := messyPrice(tc.in); got != tc.want {
			t.Errorf("messyPrice(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Every variant of every category standardizes back by the documented rule (standardCategory
	// in recount_test.go), and every canonical name is a fixed point.
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for _, c := range Categories {
		if got := standardCategory(c); got != c {
			t.Errorf("%q is not a fixed point: %q", c, got)
		}
		for range 50 {
			v := messyCategory(r, c)
			seen[v] = true
			if got := standardCategory(v); got != c {
				t.Errorf("variant %q of %q standardizes to %q", v, c, got)
			}
		}
	}
	for _, v := range []string{"home and kitchen", "HOME&KITCHEN", "Home and Kitchen"} {
		if !seen[v] {
			t.Errorf("variant %q never written", v)
		}
	}
	for _, sku := range []string{messySKU(r, "P0007"), messySKU(r, "P0007"), messySKU(r, "P0007")} {
		if got := standardSKU(sku); got != "P0007" {
			t.Errorf("SKU %q → %q", sku, got)
		}
	}
}

func standardSKU(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"no dir", func(c *Config) { c.Dir = "" }},
		{"start not midnight", func(c *Config) { c.Start = c.Start.Add(time.Hour) }},
		{"start not UTC", func(c *Config) { c.Start = c.Start.In(time.FixedZone("X", 3600)) }},
		{"zero days", func(c *Config) { c.Days = 0 }},
		{"few products", func(c *Config) { c.Products = 3 }},
		{"bad form", func(c *Config) { c.ActivityForm = "csv" }},
		{"weak spikes", func(c *Config) { c.SpikeFactor = 4 }},
		{"too many spikes", func(c *Config) { c.Days, c.Spikes = 1, 1000 }},
		{"negative rate", func(c *Config) { c.Dirt.TxBadPrice = -0.1 }},
		{"transaction rates above 1", func(c *Config) { c.Dirt.TxMalformed, c.Dirt.TxBadField = 0.6, 0.6 }},
	} {
		cfg := DefaultConfig()
		cfg.Dir = "x"
		tc.edit(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", tc.name, err)
		}
	}
	for _, name := range PresetNames {
		cfg, err := Preset(name)
		cfg.Dir = "x"
		if err != nil || cfg.Validate() != nil {
			t.Errorf("preset %s: %v %v", name, err, cfg.Validate())
		}
	}
	if _, err := Preset("huge"); !errors.Is(err, ErrConfig) {
		t.Errorf("Preset(huge) = %v", err)
	}
}
