package lake

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		err  error
	}{
		{"no brokers", Config{LakeDir: "l"}, ErrBadConfig},
		{"no lake dir", Config{Brokers: []string{"b"}}, ErrBadConfig},
		{"unknown dataset", Config{Brokers: []string{"b"}, LakeDir: "l", Datasets: []string{"orders"}}, ErrBadConfig},
		{"negative batch", Config{Brokers: []string{"b"}, LakeDir: "l", MaxBatchRows: -1}, ErrBadConfig},
		{"defaults", Config{Brokers: []string{"b"}, LakeDir: "l"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cfg.Validate(); !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("Validate() = %v, want %v", err, c.err)
			}
		})
	}
	c := Config{Brokers: []string{"b"}, LakeDir: "l"}
	_ = c.Validate()
	if !slices.Equal(c.Datasets, []string{Transactions, Activity, Inventory, Feedback, Journeys}) ||
		c.MaxBatchRows != 200_000 || c.RowGroupRows != 65_536 || c.FlushInterval != time.Minute || c.Logger == nil {
		t.Errorf("defaults %+v", c)
	}
}
