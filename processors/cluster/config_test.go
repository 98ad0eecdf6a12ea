package cluster

import "testing"

// TestFetchBytes: consumers fetch DefaultFetchBytes per partition unless FetchBytes says
// otherwise; a negative size is an error.
func TestFetchBytes(t *testing.T) {
	c := Config{Brokers: []string{"127.0.0.1:1"}}
	if err := c.Validate(); err != nil || c.FetchBytes != 1<<20 || c.Sarama().Consumer.Fetch.Default != 1<<20 {
		t.Errorf("default: %d, sarama %d (%v); want 1 MiB", c.FetchBytes, c.Sarama().Consumer.Fetch.Default, err)
	}
	c.FetchBytes = 8 << 20
	if err := c.Validate(); err != nil || c.Sarama().Consumer.Fetch.Default != 8<<20 {
		t.Errorf("8 MiB: sarama %d (%v)", c.Sarama().Consumer.Fetch.Default, err)
	}
	c.FetchBytes = -1
	if err := c.Validate(); err == nil {
		t.Error("negative fetch size accepted")
	}
	c.FetchBytes, c.RedisFlushInterval = 0, -1
	if err := c.Validate(); err == nil {
		t.Error("negative Redis flush interval accepted")
	}
}
