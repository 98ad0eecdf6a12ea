package reports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/inventory"
	"github.com/shopease/shopease/processors/inventory/product"
	"github.com/shopease/shopease/processors/sales"
)

// ErrNotRecovered is returned when a view does not catch up with its table before the deadline.
var ErrNotRecovered = errors.New("reports: view not recovered")

// Load reads the sales, revenue and inventory product tables through goka views (built with
// cfg.ViewOptions: give cfg a Pebble Storage for large tables, goka's memory store sorts every
// key on each write) and returns their whole contents. It waits for each view to catch up with
// its table, at most until ctx is done.
func Load(ctx context.Context, cfg cluster.Config) (*Data, error) {
	d := &Data{Inventory: map[string]*product.Product{}}
	err := readView(ctx, func() (*goka.View, error) { return sales.NewView(cfg) }, func(_ string, v any) {
		d.Products = append(d.Products, v.(*sales.ProductSales))
	})
	if err != nil {
		return nil, err
	}
	err = readView(ctx, func() (*goka.View, error) { return sales.NewRevenueView(cfg) }, func(_ string, v any) {
		d.Orders = append(d.Orders, v.(*sales.OrderMonth))
	})
	if err != nil {
		return nil, err
	}
	err = readView(ctx, func() (*goka.View, error) { return inventory.NewView(cfg) }, func(k string, v any) {
		d.Inventory[k] = v.(*product.Product)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// readView runs a view until it has recovered, calls each for every key, and stops it.
func readView(ctx context.Context, build func() (*goka.View, error), each func(key string, value any)) error {
	v, err := build()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	stop := func() error {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("reports: view: %w", err)
		}
		return nil
	}
	select {
	case <-v.WaitRunning():
	case err := <-done:
		done <- err
		_ = stop()
		if err == nil {
			err = ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrNotRecovered, err)
	case <-ctx.Done():
		_ = stop()
		return fmt.Errorf("%w: %w", ErrNotRecovered, ctx.Err())
	}
	for !v.Recovered() {
		select {
		case <-ctx.Done():
			_ = stop()
			return fmt.Errorf("%w: %w", ErrNotRecovered, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	it, err := v.Iterator()
	if err != nil {
		_ = stop()
		return fmt.Errorf("reports: iterate: %w", err)
	}
	for it.Next() {
		val, err := it.Value()
		if err != nil {
			it.Release()
			_ = stop()
			return fmt.Errorf("reports: decode %s: %w", it.Key(), err)
		}
		if val != nil {
			each(it.Key(), val)
		}
	}
	it.Release()
	return stop()
}
