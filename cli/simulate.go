package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/shopease/shopease/generate"
	"github.com/shopease/shopease/replay"
)

func simulateCmd() *command {
	var (
		cf                            clusterFlags
		rate, spikeFactor             float64
		users, products, sessions     int
		spikeEvery, spikeLen, runTime time.Duration
		seed                          uint64
	)
	d := generate.DefaultSimConfig()
	return &command{
		name:    "simulate",
		summary: "send live clickstream and purchases to the raw topics (event time = now)",
		help: `Simulates live ShopEase traffic: sessions that walk the funnel (page views, product views, cart,
checkout) and the purchases that end some of them, sent to shopease.activity and
shopease.transactions at --rate events per second with the current time as event time. With
--spike-every, a spike of --spike-factor times the rate lasts --spike-length every so often, for the
real-time spike detection to find. Stops on Ctrl-C, or after --duration, and prints what it sent.

Example:
  shopease simulate --brokers 127.0.0.1:9092 --rate 500 --spike-every 5m
  shopease simulate --brokers 127.0.0.1:9092 --rate 100 --spike-every 0 --duration 2m`,
		flags: func(fs *flag.FlagSet, _ *env) {
			cf.register(fs)
			fs.Float64Var(&rate, "rate", d.Rate, "events per second (activity events and purchase lines together)")
			fs.IntVar(&users, "users", d.Users, "number of simulated users")
			fs.IntVar(&products, "products", d.Products, "number of products")
			fs.IntVar(&sessions, "sessions", d.Sessions, "sessions open at once")
			fs.DurationVar(&spikeEvery, "spike-every", d.SpikeEvery, "a spike every this many whole minutes (0: none)")
			fs.DurationVar(&spikeLen, "spike-length", d.SpikeLength, "length of a spike (whole minutes)")
			fs.Float64Var(&spikeFactor, "spike-factor", d.SpikeFactor, "rate multiplier during a spike (≥ 5)")
			fs.Uint64Var(&seed, "seed", d.Seed, "random seed")
			fs.DurationVar(&runTime, "duration", 0, "stop after this long (0: until Ctrl-C)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("simulate takes no arguments")
			}
			cfg, err := cf.config(e)
			if err != nil {
				return err
			}
			sc := generate.SimConfig{Seed: seed, Rate: rate, Users: users, Products: products, Sessions: sessions,
				SpikeEvery: spikeEvery, SpikeLength: spikeLen, SpikeFactor: spikeFactor, Tick: d.Tick}
			if err := sc.Validate(); err != nil {
				return usagef("%s", err)
			}
			if runTime > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, runTime)
				defer cancel()
			}
			p, err := replay.NewProducer(cfg.Brokers, replay.WithClientID("shopease-simulate"), replay.WithProducerLogger(e.log))
			if err != nil {
				return err
			}
			sink := func(ctx context.Context, _ string, _ []byte, ev any, ts time.Time) error {
				return p.SendEvent(ctx, cfg.Namespace, ev, ts)
			}
			sim, err := generate.NewSimulator(sc, sink, generate.WithSimLogger(e.log))
			if err != nil {
				p.Close()
				return err
			}
			e.log.Info("simulating", "rate", rate, "spike_every", spikeEvery, "brokers", cfg.Brokers)
			runErr := sim.Run(ctx)
			p.Flush()
			closeErr := p.Close()
			st := p.Stats()
			fmt.Fprintf(e.stdout, "sent %d records (%d acknowledged, %d failed)\n", st.Sent, st.Acked, st.Failed)
			if runErr != nil && !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
				return runErr
			}
			if closeErr != nil {
				return closeErr
			}
			if st.Failed > 0 {
				return fmt.Errorf("simulate: %d records were not acknowledged", st.Failed)
			}
			return nil
		},
	}
}
