package generate_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/shopease/shopease/generate"
)

// Generate the Tiny preset and read the truth back: what a pipeline test compares its answers with.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "shopease-history")
	defer os.RemoveAll(dir)
	cfg := generate.Tiny()
	cfg.Dir = dir
	if _, err := generate.Run(context.Background(), cfg, nil); err != nil {
		log.Fatal(err)
	}
	truth, err := generate.LoadTruth(filepath.Join(dir, generate.TruthFile))
	if err != nil {
		log.Fatal(err)
	}
	tx := truth.Datasets[generate.DatasetTransactions]
	fmt.Println("transaction rows:", tx.Rows, "sent:", tx.Sent, "accepted:", tx.Accepted, "duplicates:", tx.Duplicates)
	for _, m := range truth.Months {
		fmt.Println(m.Month, "net", m.Net, "orders", m.Orders)
	}
	fmt.Println("spikes:", len(truth.Spikes))
	// Output:
	// transaction rows: 257 sent: 228 accepted: 187 duplicates: 6
	// 2024-02 net 35888.58 orders 97
	// 2024-03 net 6286.57 orders 49
	// spikes: 2
}

// Run a simulator for a few seconds, counting what it would send to Kafka.
func ExampleSimulator() {
	cfg := generate.DefaultSimConfig()
	cfg.Rate = 1000
	n := map[string]int{}
	sim, err := generate.NewSimulator(cfg, func(_ context.Context, dataset string, key []byte, ev any, ts time.Time) error {
		n[dataset]++ // the integrator produces ev to the raw topic of dataset, with key and timestamp ts
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := sim.Run(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n["activity"] > 0)
	// Output: true
}
