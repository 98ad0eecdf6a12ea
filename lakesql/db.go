package lakesql

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/lovoo/goka"
	"github.com/parquet-go/parquet-go"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/lake"
	"github.com/shopease/shopease/processors"
	"github.com/shopease/shopease/processors/topology"
)

//go:embed views/*.sql
var viewFiles embed.FS

// ErrNoLake is returned by Open when the lake folder does not exist.
var ErrNoLake = errors.New("lakesql: no lake")

// ErrView is returned by Open when an embedded view does not compile; it names the file.
var ErrView = errors.New("lakesql: view")

// DB is an in-memory DuckDB with the lake's views defined. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	lakeDir string
	// empty holds the empty typed Parquet files that stand in for missing datasets and snapshots.
	empty string
	// docs are the views' descriptions by name, from their files' leading comments.
	docs   map[string]string
	logger *slog.Logger
}

// Option configures Open.
type Option func(*options)

type options struct {
	ns     topology.Namespace
	logger *slog.Logger
}

// WithNamespace reads the table snapshots of namespace ns (tests share one cluster under
// namespaces; the lake names snapshot folders by the namespaced table topic).
func WithNamespace(ns topology.Namespace) Option { return func(o *options) { o.ns = ns } }

// WithLogger logs which datasets and snapshots the views read.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Open opens an in-memory DuckDB over the lake at lakeDir and defines every view. The files are
// listed once, here: files the lake writer adds later are seen by the next Open.
func Open(ctx context.Context, lakeDir string, opts ...Option) (*DB, error) {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if st, err := os.Stat(lakeDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w at %s (write one with 'shopease lake' or 'shopease run')", ErrNoLake, lakeDir)
	}
	abs, err := filepath.Abs(lakeDir)
	if err != nil {
		return nil, fmt.Errorf("lakesql: %w", err)
	}
	empty, err := os.MkdirTemp("", "shopease-lakesql-")
	if err != nil {
		return nil, fmt.Errorf("lakesql: %w", err)
	}
	conn, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		// Every connection of the pool: months and days are UTC.
		_, err := ex.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	})
	if err != nil {
		os.RemoveAll(empty)
		return nil, fmt.Errorf("lakesql: open duckdb: %w", err)
	}
	d := &DB{db: sql.OpenDB(conn), lakeDir: abs, empty: empty, docs: map[string]string{}, logger: o.logger}
	if err := d.define(ctx, o.ns); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes DuckDB and removes the empty stand-in files.
func (d *DB) Close() error {
	err := d.db.Close()
	if rerr := os.RemoveAll(d.empty); err == nil {
		err = rerr
	}
	return err
}

// LakeDir is the absolute root of the lake.
func (d *DB) LakeDir() string { return d.lakeDir }

// SQL returns the database for queries that need database/sql itself.
func (d *DB) SQL() *sql.DB { return d.db }

// define runs the view files in name order, then one view per group table.
func (d *DB) define(ctx context.Context, ns topology.Namespace) error {
	names, err := fs.Glob(viewFiles, "views/*.sql")
	if err != nil {
		return fmt.Errorf("lakesql: %w", err)
	}
	slices.Sort(names)
	funcs := template.FuncMap{"events": d.events, "snapshot": func(group string) (string, error) {
		return d.snapshot(ns, group)
	}}
	for _, name := range names {
		if filepath.Base(name) == tableViewFile {
			continue
		}
		text, err := viewFiles.ReadFile(name)
		if err != nil {
			return fmt.Errorf("lakesql: %w", err)
		}
		if err := d.exec(ctx, name, string(text), funcs, nil); err != nil {
			return err
		}
	}
	text, err := viewFiles.ReadFile("views/" + tableViewFile)
	if err != nil {
		return fmt.Errorf("lakesql: %w", err)
	}
	for _, t := range processors.Tables {
		if err := d.exec(ctx, tableViewFile, string(text), funcs, tableView{View: TableView(t.Group), Group: string(t.Group), Doc: t.Doc}); err != nil {
			return err
		}
	}
	return nil
}

// tableViewFile is the template of the per-table views, run once per processors.Tables entry.
const tableViewFile = "table.sql"

// tableView is what table.sql is rendered with.
type tableView struct {
	View, Group, Doc string
}

// TableView is the name of the view over a group table's newest snapshot: "shopease-sales" →
// sales_table.
func TableView(group goka.Group) string {
	name := strings.TrimPrefix(string(group), "shopease-")
	return strings.ReplaceAll(name, "-", "_") + "_table"
}

// exec renders one view file and runs it, recording the description of the view it creates.
func (d *DB) exec(ctx context.Context, name, text string, funcs template.FuncMap, data any) error {
	tmpl, err := template.New(name).Funcs(funcs).Parse(text)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrView, name, err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return fmt.Errorf("%w %s: %w", ErrView, name, err)
	}
	if _, err := d.db.ExecContext(ctx, b.String()); err != nil {
		return fmt.Errorf("%w %s: %w", ErrView, name, err)
	}
	view, doc := describe(b.String())
	if view != "" {
		d.docs[view] = doc
	}
	return nil
}

// describe returns the name of the view or macro a rendered file creates and its leading comment.
func describe(text string) (name, doc string) {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if c, ok := strings.CutPrefix(t, "--"); ok && name == "" {
			lines = append(lines, strings.TrimSpace(c))
			continue
		}
		upper := strings.ToUpper(t)
		for _, p := range []string{"CREATE OR REPLACE VIEW ", "CREATE OR REPLACE MACRO "} {
			if rest, ok := strings.CutPrefix(upper, p); ok && name == "" {
				name = strings.ToLower(strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '(' })[0])
			}
		}
		if name != "" {
			break
		}
	}
	return name, strings.Join(lines, " ")
}

// events renders the source of a dataset: its Parquet files, or the empty stand-in.
func (d *DB) events(dataset string) (string, error) {
	ds, ok := lake.FindDataset(dataset)
	if !ok {
		return "", fmt.Errorf("unknown dataset %q", dataset)
	}
	root := filepath.Join(d.lakeDir, "events", ds.Name)
	files, err := filepath.Glob(filepath.Join(root, "*", "*.parquet"))
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		d.logger.Debug("lake dataset empty: its view has no rows", "dataset", ds.Name, "dir", root)
		root = filepath.Join(d.empty, "events", ds.Name)
		if err := writeEmpty(ds.Name, filepath.Join(root, "date=1970-01-01", "empty.parquet")); err != nil {
			return "", err
		}
	}
	d.logger.Debug("lake dataset", "dataset", ds.Name, "files", len(files))
	return fmt.Sprintf("read_parquet(%s, hive_partitioning = true, union_by_name = true)",
		quote(filepath.Join(root, "*", "*.parquet"))), nil
}

// snapshot renders the source of a group table: the part files of its newest snapshot.
func (d *DB) snapshot(ns topology.Namespace, group string) (string, error) {
	table := string(ns.Table(goka.Group(group)))
	var files []string
	snap, err := compaction.Newest(d.lakeDir, table)
	switch {
	case err == nil:
		// Exactly the parts the manifest lists: a part file of a crashed later run is not read.
		for _, p := range snap.Manifest.Partitions {
			files = append(files, quote(filepath.Join(snap.Dir, p.File)))
		}
	case !errors.Is(err, compaction.ErrNoSnapshot):
		return "", fmt.Errorf("lakesql: snapshot of %s: %w", table, err)
	}
	if len(files) == 0 {
		path := filepath.Join(d.empty, "tables", table, "empty.parquet")
		if err := writeEmptyOf[compaction.Row](path); err != nil {
			return "", err
		}
		files = []string{quote(path)}
		d.logger.Debug("no snapshot of table: its view has no rows", "table", table)
	}
	return fmt.Sprintf("read_parquet([%s], filename = true)", strings.Join(files, ", ")), nil
}

// writeEmpty writes an empty Parquet file with the lake's schema of dataset.
func writeEmpty(dataset, path string) error {
	switch dataset {
	case lake.Transactions:
		return writeEmptyOf[lake.TransactionRow](path)
	case lake.Activity:
		return writeEmptyOf[lake.ActivityRow](path)
	case lake.Inventory:
		return writeEmptyOf[lake.InventoryRow](path)
	case lake.Feedback:
		return writeEmptyOf[lake.FeedbackRow](path)
	case lake.Journeys:
		return writeEmptyOf[lake.JourneyRow](path)
	}
	return fmt.Errorf("no row type for dataset %q", dataset)
}

func writeEmptyOf[T any](path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := parquet.WriteFile(path, []T{}); err != nil {
		return fmt.Errorf("lakesql: empty %s: %w", path, err)
	}
	return nil
}

// quote makes s a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
