package journeys

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/fence"
	"github.com/shopease/shopease/processors/outcome"
	"github.com/shopease/shopease/processors/topology"
)

// benchUser is a user value shaped like the generated data's: events sessions of 8 (page views,
// product views, a cart add) an hour apart, with the generator's ids, session ids and referrers,
// plus two pending orders and three released ones.
func benchUser(events int) *User {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	u := &User{Fence: fence.Vector{{Source: "shopease.raw.activity/3", Offset: 1_234_567}, {Source: "shopease.raw.transactions/1", Offset: 98_765}}}
	for i := range events {
		sess, k := i/8, i%8
		typ := []event.ActivityType{event.PageView, event.PageView, event.ProductView, event.Search,
			event.ProductView, event.ProductView, event.AddToCart, event.CheckoutStart}[k]
		product := ""
		if typ == event.ProductView || typ == event.AddToCart {
			product = "P" + strconv.Itoa(10_000+(i*7919)%5000)
		}
		at := t0.Add(time.Duration(sess)*time.Hour + time.Duration(k*37)*time.Second)
		u.AddActivity(&event.Activity{EventID: fmt.Sprintf("a20240301-%07d", 100_000+i*13), Type: typ, ProductID: product,
			SessionID: fmt.Sprintf("s20240301-%06d", 5000+sess), Referrer: []string{"search", "social", "email", ""}[sess%4], Time: at})
	}
	mark := u.ActivityMark
	for i := range 5 {
		u.Pending = append(u.Pending, Purchase{OrderID: fmt.Sprintf("o20240301-%06d", 700+i), At: mark.Add(time.Duration(i-4) * time.Hour),
			Origin: "shopease.raw.transactions/1/" + strconv.Itoa(90_000+i), Products: []string{"P10007", "P10231"}, Lines: 2, Units: 3, Amount: 12_950})
	}
	released, _ := u.Release("u-4f3a9c1b7d2e", []string{u.Pending[0].OrderID, u.Pending[1].OrderID, u.Pending[2].OrderID})
	if len(released) != 3 {
		panic("benchUser: want 3 released")
	}
	return u
}

// BenchmarkUserCodec is the table value's decode + encode, which the processor pays on every
// record of the user: its cost grows with the activity the user keeps.
func BenchmarkUserCodec(b *testing.B) {
	for _, n := range []int{50, 400, 2000} {
		b.Run(strconv.Itoa(n)+"events", func(b *testing.B) {
			raw, err := UserCodec{}.Encode(benchUser(n))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				v, err := UserCodec{}.Decode(raw)
				if err != nil {
					b.Fatal(err)
				}
				if raw, err = (UserCodec{}).Encode(v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(raw)), "value-bytes")
		})
	}
}

// BenchmarkActivity is the processor's cost per activity event (goka tester: the table value is
// decoded and encoded through UserCodec as in production) for a user who already keeps n events.
func BenchmarkActivity(b *testing.B) {
	for _, n := range []int{50, 400, 2000} {
		b.Run(strconv.Itoa(n)+"events", func(b *testing.B) {
			tt := tester.New(b)
			cfg := cluster.Config{Brokers: []string{"tester"}, Namespace: "bench.", Observer: &outcome.Counts{}}
			p, err := New(cfg, Sources{Activity: 1, Transactions: 1}, goka.WithTester(tt))
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			defer func() { cancel(); <-done }()

			const user = "u-4f3a9c1b7d2e"
			u := benchUser(n)
			tt.SetTableValue(cfg.Namespace.Table(Group), user, u)
			topic := string(cfg.Namespace.Stream(topology.CleanActivity))
			start := u.ActivityMark
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				// One event a second after the last. Nothing is pruned within Retain (a year), so
				// the value grows by one event per iteration from n, up to maxEvents.
				a := &event.Activity{EventID: fmt.Sprintf("a20240309-%07d", i), UserID: user, SessionID: "s20240309-000001",
					Type: event.ProductView, ProductID: "P10007", Referrer: "search", Time: start.Add(time.Duration(i+1) * time.Second)}
				raw, err := codecs.Activity{}.Encode(a)
				if err != nil {
					b.Fatal(err)
				}
				o := fence.Origin{Topic: "shopease.raw.activity", Partition: 3, Offset: 2_000_000 + int64(i)}
				tt.Consume(topic, user, raw, tester.WithHeaders(fence.Headers(o)))
			}
		})
	}
}
