package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
)

func topicsCmd() *command {
	var cf clusterFlags
	return &command{
		name:    "topics",
		summary: "create and describe the Kafka topics of the pipeline",
		subs: []*command{{
			name:    "create",
			summary: "create the raw topics (goka never creates input topics)",
			help: `Creates the raw topics shopease.activity, .transactions, .inventory, .feedback and .deadletter
with --partitions partitions and --replication replicas. Existing topics are kept if their partition
count matches; a different count is an error, because processors join partition i of every input.

Example:
  shopease topics create --brokers 127.0.0.1:9092 --partitions 8 --replication 1`,
			flags: func(fs *flag.FlagSet, _ *env) { cf.register(fs) },
			run: func(_ context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("create takes no arguments")
				}
				cfg, err := cf.config(e)
				if err != nil {
					return err
				}
				res, err := cfg.EnsureTopics(int32(cf.partitions))
				for _, r := range res {
					state := "exists"
					if r.Created {
						state = "created"
					}
					fmt.Fprintf(e.stdout, "%-40s %s\n", r.Name, state)
				}
				return err
			},
		}, {
			name:    "describe",
			summary: "list the pipeline's topics and check co-partitioning",
			help: `Lists every topic of the namespace (raw topics, table changelogs, outputs) with partitions,
replication and cleanup policy, and checks that the raw topics share one partition count.
Exits 1 when a raw topic is missing or counts differ.

Example:
  shopease topics describe --brokers 127.0.0.1:9092`,
			flags: func(fs *flag.FlagSet, _ *env) { cf.register(fs) },
			run: func(_ context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("describe takes no arguments")
				}
				cfg, err := cf.config(e)
				if err != nil {
					return err
				}
				infos, err := cfg.DescribeTopics()
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tREPLICATION\tCLEANUP\tRETENTION.MS")
				for _, t := range infos {
					if !t.Exists {
						fmt.Fprintf(tw, "%s\tmissing\t\t\n", t.Name)
						continue
					}
					ret := t.Retention
					if ret == "" {
						ret = "broker default"
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", t.Name, t.Partitions, t.Replication, t.Cleanup, ret)
				}
				tw.Flush()
				if err == nil {
					fmt.Fprintln(e.stdout, "raw topics are co-partitioned")
				}
				return err
			},
		}},
	}
}
