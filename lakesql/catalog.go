package lakesql

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// View is one view or table macro defined over the lake.
type View struct {
	Name string
	// Kind is "view", or "macro" for a table macro (called as name(args) in FROM).
	Kind string
	// Params are a macro's parameters.
	Params []string
	// Columns are a view's columns (a macro's depend on its arguments: none listed).
	Columns []Column
	// Doc is the description from the view's .sql file.
	Doc string
}

// Views lists the views and table macros over the lake, by name.
func (d *DB) Views(ctx context.Context) ([]View, error) {
	var out []View
	res, err := d.Query(ctx, `SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'`)
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		name := row[0].(string)
		cols, err := d.columns(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, View{Name: name, Kind: "view", Columns: cols, Doc: d.docs[name]})
	}
	res, err = d.Query(ctx, `SELECT function_name, parameters FROM duckdb_functions()
		WHERE NOT internal AND schema_name = 'main' AND function_type = 'table_macro'`)
	if err != nil {
		return nil, err
	}
	for _, row := range res.Rows {
		name := row[0].(string)
		v := View{Name: name, Kind: "macro", Doc: d.docs[name]}
		if ps, ok := row[1].([]any); ok {
			for _, p := range ps {
				v.Params = append(v.Params, fmt.Sprint(p))
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b View) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// View returns the view or macro named name (case-insensitive), false when there is none.
func (d *DB) View(ctx context.Context, name string) (View, bool, error) {
	views, err := d.Views(ctx)
	if err != nil {
		return View{}, false, err
	}
	for _, v := range views {
		if strings.EqualFold(v.Name, name) {
			return v, true, nil
		}
	}
	return View{}, false, nil
}

func (d *DB) columns(ctx context.Context, view string) ([]Column, error) {
	res, err := d.Query(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index`, view)
	if err != nil {
		return nil, err
	}
	var cols []Column
	for _, row := range res.Rows {
		cols = append(cols, Column{Name: row[0].(string), Type: row[1].(string)})
	}
	return cols, nil
}
