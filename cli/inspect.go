package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/lovoo/goka"

	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/tables/inspect"
)

// inspectFlags are shared by the inspect subcommands.
type inspectFlags struct {
	cf         clusterFlags
	online     bool
	raw        bool
	partitions int
	prefix     string
	start, end string
	limit      int
	count      bool
}

func (f *inspectFlags) register(fs *flag.FlagSet) {
	f.cf.register(fs)
	fs.BoolVar(&f.online, "online", false, "read through goka views from the cluster (--brokers) instead of a stopped processor's --data-dir")
	fs.BoolVar(&f.raw, "raw", false, "print values as stored (text or base64) instead of decoding them with the table's codec")
	fs.IntVar(&f.partitions, "table-partitions", 0, "partition count of the table, to look a key up in its partition only (0: search every local partition)")
}

func (f *inspectFlags) registerQuery(fs *flag.FlagSet) {
	fs.StringVar(&f.prefix, "prefix", "", "only keys with this prefix")
	fs.StringVar(&f.start, "start", "", "only keys ≥ start (with --end: the range [start, end))")
	fs.StringVar(&f.end, "end", "", "only keys < end")
	fs.IntVar(&f.limit, "limit", 100, "print at most this many records (0: all)")
}

const inspectHelp = `Reads the state tables, read-only: offline from a STOPPED processor's --data-dir (Pebble opened
read-only; a running processor holds a lock and is refused), or online with --online through goka
views against the cluster. Values are decoded with the table's codec and printed as JSON, one
record a line (--raw prints them as stored).

Tables: `

func tableList() string {
	s := ""
	for _, t := range processors.Tables {
		s += "\n  " + string(goka.GroupTable(t.Group)) + " — " + t.Doc
	}
	return s
}

func inspectCmd() *command {
	var f inspectFlags
	resolve := func(name string) (processors.Table, string, error) {
		t, ok := processors.FindTable(f.cf.namespaceValue(), name)
		if !ok {
			return processors.Table{}, "", usagef("unknown table %q; known:%s", name, tableList())
		}
		return t, string(f.cf.namespaceValue().Table(t.Group)), nil
	}
	return &command{
		name:    "inspect",
		summary: "look at the state tables: list, get a key, scan, count (offline or online)",
		subs: []*command{{
			name:    "tables",
			summary: "list the tables in a data dir with partitions, sizes, offsets (and key counts)",
			help: inspectHelp + tableList() + `

Example:
  shopease inspect tables --data-dir ./data --count`,
			flags: func(fs *flag.FlagSet, _ *env) {
				f.register(fs)
				fs.BoolVar(&f.count, "count", false, "also count the keys (reads every table)")
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if len(args) > 0 {
					return usagef("tables takes no arguments")
				}
				return f.listTables(ctx, e)
			},
		}, {
			name:    "get",
			summary: "print the value of one key",
			args:    "TABLE KEY",
			help: inspectHelp + tableList() + `

Exits 1 when the key does not exist.

Example:
  shopease inspect get shopease-ratings-table P0007 --data-dir ./data
  shopease inspect get shopease-inventory-table P0007 --online --brokers 127.0.0.1:9092`,
			flags: func(fs *flag.FlagSet, _ *env) { f.register(fs) },
			run: func(ctx context.Context, e *env, args []string) error {
				if len(args) != 2 {
					return usagef("get takes TABLE KEY")
				}
				t, topic, err := resolve(args[0])
				if err != nil {
					return err
				}
				return f.withSource(ctx, e, t, func(src inspect.Source) error {
					rec, found, err := src.Get(ctx, topic, args[1])
					if err != nil {
						return err
					}
					if !found {
						return fmt.Errorf("%s: key %q not found", topic, args[1])
					}
					return f.print(e, t, rec)
				})
			},
		}, {
			name:    "scan",
			summary: "print the records of a key prefix or range, in key order",
			args:    "TABLE",
			help: inspectHelp + tableList() + `

Example:
  shopease inspect scan shopease-inventory-table --prefix P00 --limit 10 --data-dir ./data`,
			flags: func(fs *flag.FlagSet, _ *env) { f.register(fs); f.registerQuery(fs) },
			run: func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("scan takes TABLE")
				}
				t, topic, err := resolve(args[0])
				if err != nil {
					return err
				}
				q := inspect.Query{Prefix: f.prefix, Start: f.start, End: f.end, Limit: f.limit}
				return f.withSource(ctx, e, t, func(src inspect.Source) error {
					return src.Scan(ctx, topic, q, func(rec inspect.Record) error { return f.print(e, t, rec) })
				})
			},
		}, {
			name:    "count",
			summary: "count the keys of a table, or of a prefix or range",
			args:    "TABLE",
			help: inspectHelp + tableList() + `

Example:
  shopease inspect count shopease-transactions-table --data-dir ./data`,
			flags: func(fs *flag.FlagSet, _ *env) { f.register(fs); f.registerQuery(fs) },
			run: func(ctx context.Context, e *env, args []string) error {
				if len(args) != 1 {
					return usagef("count takes TABLE")
				}
				t, topic, err := resolve(args[0])
				if err != nil {
					return err
				}
				q := inspect.Query{Prefix: f.prefix, Start: f.start, End: f.end}
				return f.withSource(ctx, e, t, func(src inspect.Source) error {
					n, err := src.Count(ctx, topic, q)
					if err != nil {
						return err
					}
					fmt.Fprintln(e.stdout, n)
					return nil
				})
			},
		}},
	}
}

// groupDir is where `shopease run --data-dir` keeps the tables of a group.
func (f *inspectFlags) groupDir(t processors.Table) string {
	return filepath.Join(f.cf.dataDir, "processor", string(f.cf.namespaceValue().Group(t.Group)))
}

func (f *inspectFlags) withSource(ctx context.Context, e *env, t processors.Table, fn func(inspect.Source) error) error {
	var (
		src inspect.Source
		err error
	)
	if f.online {
		cfg, cerr := f.cf.config(e)
		if cerr != nil {
			return cerr
		}
		cfg.Storage = nil
		tmp, terr := os.MkdirTemp("", "shopease-inspect-")
		if terr != nil {
			return terr
		}
		defer os.RemoveAll(tmp)
		src, err = inspect.NewViewSource(cfg.Brokers, inspect.WithViewStorageDir(tmp),
			inspect.WithGokaViewOptionsFunc(func(table string) []goka.ViewOption { return cfg.ViewOptions(goka.Table(table)) }))
	} else {
		dir := f.groupDir(t)
		if _, serr := os.Stat(dir); serr != nil {
			return fmt.Errorf("no local state for %s in %s (is --data-dir the processor's? or use --online): %w", t.Group, dir, serr)
		}
		var opts []inspect.DirOption
		if f.partitions > 0 {
			opts = append(opts, inspect.WithPartitionCount(int32(f.partitions)))
		}
		src, err = inspect.OpenDir(dir, opts...)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	return fn(src)
}

func (f *inspectFlags) print(e *env, t processors.Table, rec inspect.Record) error {
	var c goka.Codec
	if !f.raw {
		c = t.Codec
	}
	b, err := inspect.JSON(c, rec)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

func (f *inspectFlags) listTables(ctx context.Context, e *env) error {
	if f.online {
		return usagef("tables lists a data dir; it has no --online form (use topics describe for the cluster)")
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tPARTITIONS\tBYTES\tKEYS\tOFFSETS")
	found := 0
	for _, t := range processors.Tables {
		dir := f.groupDir(t)
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			continue
		}
		src, err := inspect.OpenDir(dir)
		if err != nil {
			return err
		}
		infos, err := src.Tables(ctx, f.count)
		src.Close()
		if err != nil {
			return err
		}
		for _, in := range infos {
			found++
			keys, offsets := int64(0), ""
			for _, p := range in.Partitions {
				keys += p.Keys
				offsets += fmt.Sprintf("%d:%d ", p.Partition, p.Offset)
			}
			k := "-"
			if f.count {
				k = fmt.Sprint(keys)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", in.Name, len(in.Partitions), in.SizeBytes(), k, offsets)
		}
	}
	tw.Flush()
	if found == 0 {
		return fmt.Errorf("no tables under %s (is it the --data-dir of `shopease run`?)", filepath.Join(f.cf.dataDir, "processor"))
	}
	return nil
}
