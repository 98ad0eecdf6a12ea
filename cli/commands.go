package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/processors/topology"
)

// Version is set at build time (-ldflags "-X github.com/shopease/shopease/cli.Version=v1.2.3").
var Version = "dev"

func commands() *command {
	root := &command{
		name:    "shopease",
		summary: "event-sourced ShopEase pipeline: goka processors over Kafka, Pebble tables, Parquet lake, Redis metrics",
		help: `shopease runs the ShopEase pipeline: Kafka streams processed by goka processors with
Pebble-backed state tables.

Every flag can also be set as an environment variable SHOPEASE_<FLAG> (--data-dir → SHOPEASE_DATA_DIR)
or as a key in a config file given with --config or SHOPEASE_CONFIG; a flag on the command line wins
over the environment, which wins over the file.

Example:
  shopease demo                                 # everything in-process, nothing to install
  shopease topics create --brokers 127.0.0.1:9092
  shopease run --brokers 127.0.0.1:9092 --data-dir ./data`,
		subs: []*command{versionCmd(), topicsCmd(), generateCmd(), replayCmd(), simulateCmd(), runCmd(), inspectCmd(), demoCmd(), lakeCmd(), compactCmd(), restoreCmd(), reportCmd(), sqlCmd()},
	}
	var link func(c *command)
	link = func(c *command) {
		for _, s := range c.subs {
			s.parent = c
			link(s)
		}
	}
	link(root)
	return root
}

func versionCmd() *command {
	return &command{
		name:    "version",
		summary: "print the version of shopease and of the libraries it is built with",
		help: `Prints the shopease version, the Go version, and the versions of goka, sarama and pebble.

Example:
  shopease version`,
		run: func(_ context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usagef("version takes no arguments")
			}
			fmt.Fprintf(e.stdout, "shopease %s (%s %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					for _, want := range []string{"github.com/lovoo/goka", "github.com/IBM/sarama", "github.com/cockroachdb/pebble/v2"} {
						if d.Path == want {
							fmt.Fprintf(e.stdout, "  %s %s\n", d.Path, d.Version)
						}
					}
				}
			}
			return nil
		},
	}
}

// clusterFlags are the flags of every command that talks to Kafka.
type clusterFlags struct {
	brokers     string
	namespace   string
	dataDir     string
	replication int
	partitions  int
}

func (cf *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap brokers, comma-separated")
	fs.StringVar(&cf.namespace, "namespace", "", "prefix of every topic and group name, to share a cluster")
	fs.StringVar(&cf.dataDir, "data-dir", "data", "folder of local state (Pebble tables)")
	fs.IntVar(&cf.replication, "replication", 1, "replication factor of topics shopease creates")
	fs.IntVar(&cf.partitions, "partitions", topology.DefaultPartitions, "partitions of topics shopease creates")
}

func (cf *clusterFlags) namespaceValue() topology.Namespace { return topology.Namespace(cf.namespace) }

func (cf *clusterFlags) config(e *env) (cluster.Config, error) {
	var brokers []string
	for _, b := range strings.Split(cf.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return cluster.Config{}, usagef("--brokers is empty")
	}
	if cf.partitions < 1 {
		return cluster.Config{}, usagef("--partitions must be ≥ 1, got %d", cf.partitions)
	}
	if cf.replication < 1 {
		return cluster.Config{}, usagef("--replication must be ≥ 1, got %d", cf.replication)
	}
	c := cluster.Config{
		Brokers:     brokers,
		Namespace:   topology.Namespace(cf.namespace),
		DataDir:     cf.dataDir,
		Replication: cf.replication,
		Logger:      e.log,
	}
	c.Storage = pebbleStorage(e, &c)
	return c, c.Validate()
}
