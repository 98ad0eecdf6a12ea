package updatecount

import (
	"context"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/processors/cluster"
)

func TestCountsPerKeyAndSkipsRedelivery(t *testing.T) {
	tt := tester.New(t)
	cfg := cluster.Config{Brokers: []string{"tester"}, Namespace: "unit."}
	p, err := New(cfg, goka.WithTester(tt))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	in := string(cfg.Namespace.Stream("shopease.inventory"))
	table := cfg.Namespace.Table(Group)
	for _, k := range []string{"P1", "P2", "P1", "P1"} {
		tt.Consume(in, k, []byte("x"))
	}
	// A value whose fence is ahead of the next offsets stands for state already applied before a
	// crash: records at or below its offset must not count again.
	tt.SetTableValue(table, "P3", &Count{N: 7, Offset: 1 << 40})
	tt.Consume(in, "P3", []byte("x"))

	want := map[string]int64{"P1": 3, "P2": 1, "P3": 7}
	for k, n := range want {
		v := tt.TableValue(table, k)
		if v == nil {
			t.Fatalf("%s: no value", k)
		}
		if got := v.(*Count).N; got != n {
			t.Errorf("%s: count %d, want %d", k, got, n)
		}
	}
}

func TestCountCodecRoundTrip(t *testing.T) {
	for _, c := range []Count{{0, -1}, {1, 0}, {1 << 40, 1<<62 + 3}} {
		b, err := CountCodec{}.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		v, err := CountCodec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if *v.(*Count) != c {
			t.Errorf("round trip %+v → %+v", c, *v.(*Count))
		}
	}
	if _, err := (CountCodec{}).Decode([]byte{1, 2, 3}); err == nil {
		t.Error("decode of 3 bytes: want error")
	}
}
