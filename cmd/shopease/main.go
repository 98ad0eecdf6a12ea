// Command shopease is the ShopEase pipeline: processor group, historical replay and state table
// inspection in one binary. All logic lives in package cli and below.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shopease/shopease/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
