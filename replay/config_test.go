package replay

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		c := DefaultConfig()
		c.Paths, c.Brokers = []string{"history"}, []string{"127.0.0.1:9092"}
		return c
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"dry run needs no brokers or manifest", func(c *Config) { c.DryRun, c.Brokers, c.ManifestPath = true, nil, "" }, ""},
		{"no paths", func(c *Config) { c.Paths = nil }, "no file or directory"},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "no brokers"},
		{"no manifest", func(c *Config) { c.ManifestPath = "" }, "no manifest"},
		{"unknown profile", func(c *Config) { c.Profile = "retail" }, `unknown profile "retail"`},
		{"profile and mapping", func(c *Config) { c.Profile, c.MappingFile = ProfileShopEase, "m.json" }, "choose one"},
		{"unknown dataset", func(c *Config) { c.Dataset = "orders" }, `unknown dataset "orders"`},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "negative rate"},
		{"unknown compression", func(c *Config) { c.Compression = "brotli" }, `unknown compression "brotli"`},
		{"tiny rows", func(c *Config) { c.MaxRowBytes = 10 }, "below 64"},
		{"smallest batches", func(c *Config) { c.BatchBytes = 16 << 10 }, ""},
		{"batches too small", func(c *Config) { c.BatchBytes = 16<<10 - 1 }, "batch bytes 16383 not between 16384 and 1048576"},
		{"batches above the broker's limit", func(c *Config) { c.BatchBytes = 1<<20 + 1 }, "batch bytes 1048577 not between"},
		{"batch message count", func(c *Config) { c.BatchMessages = 500 }, "batch messages 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("err %v, want valid", err)
			case tt.want != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err %v, want ErrConfig with %q", err, tt.want)
			}
		})
	}
	t.Run("zero tuning values get defaults", func(t *testing.T) {
		c := Config{Paths: []string{"x"}, DryRun: true}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		d := DefaultConfig()
		if c.Compression != d.Compression || c.MaxRowBytes != d.MaxRowBytes || c.BatchBytes != d.BatchBytes ||
			c.BatchLinger != d.BatchLinger || c.ProgressInterval != d.ProgressInterval {
			t.Errorf("after Validate: %+v", c)
		}
	})
}
