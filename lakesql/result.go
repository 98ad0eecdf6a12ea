package lakesql

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// Formats are the output formats Write knows.
var Formats = []string{"table", "csv", "json"}

// ErrFormat is returned by Write for an unknown output format.
var ErrFormat = errors.New("lakesql: unknown format")

// Column is one result column: its name and DuckDB type ("DECIMAL(18,3)", "VARCHAR", …).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a whole query result. Values are as duckdb-go returns them: duckdb.Decimal for
// DECIMAL (exact), time.Time, int64, float64, string, []byte, []any, map[string]any, nil for NULL.
type Result struct {
	Columns []Column
	Rows    [][]any
}

// Query runs one statement and reads its whole result.
func (d *DB) Query(ctx context.Context, query string, args ...any) (*Result, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("lakesql: %w", err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("lakesql: %w", err)
	}
	res := &Result{}
	for _, t := range types {
		res.Columns = append(res.Columns, Column{Name: t.Name(), Type: t.DatabaseTypeName()})
	}
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("lakesql: scan: %w", err)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lakesql: %w", err)
	}
	return res, nil
}

// Text renders one value of DuckDB type typ as text: decimals with exactly their scale's digits,
// times in UTC (a DATE as YYYY-MM-DD), floats in the shortest form that reads back the same, NULL
// as null.
func Text(v any, typ, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case duckdb.Decimal:
		return DecimalString(x)
	case time.Time:
		if typ == "DATE" {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case string:
		return x
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Text(e, "", "NULL")
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + Text(x[k], "", "NULL")
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// DecimalString prints a decimal exactly, with its scale's digits ("12.340", "-0.005").
func DecimalString(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	if d.Scale == 0 {
		return sign + digits
	}
	scale := int(d.Scale)
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// Write writes a result as an aligned table (numbers right-aligned, NULL printed as NULL), as CSV
// (header line first, NULL as an empty field) or as JSON (an array of objects in column order;
// decimals as JSON numbers with their exact digits, times as strings).
func Write(w io.Writer, format string, r *Result) error {
	var err error
	switch format {
	case "table":
		err = writeTable(w, r)
	case "csv":
		err = writeCSV(w, r)
	case "json":
		err = writeJSON(w, r)
	default:
		return fmt.Errorf("%w %q (known: %v)", ErrFormat, format, Formats)
	}
	if err != nil {
		return fmt.Errorf("lakesql: write %s: %w", format, err)
	}
	return nil
}

func writeTable(w io.Writer, r *Result) error {
	cells := make([][]string, len(r.Rows))
	width := make([]int, len(r.Columns))
	for i, c := range r.Columns {
		width[i] = utf8.RuneCountInString(c.Name)
	}
	for i, row := range r.Rows {
		cells[i] = make([]string, len(row))
		for j, v := range row {
			// One line per row: a newline inside a value would break the alignment.
			s := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(Text(v, r.Columns[j].Type, "NULL"))
			cells[i][j] = s
			width[j] = max(width[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	line := func(vals []string, right func(int) bool) {
		for j, s := range vals {
			if j > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
			if right(j) {
				b.WriteString(pad + s)
			} else if j < len(vals)-1 {
				b.WriteString(s + pad)
			} else {
				b.WriteString(s)
			}
		}
		b.WriteString("\n")
	}
	numeric := func(j int) bool { return isNumeric(r.Columns[j].Type) }
	names := make([]string, len(r.Columns))
	rules := make([]string, len(r.Columns))
	for j, c := range r.Columns {
		names[j], rules[j] = c.Name, strings.Repeat("-", width[j])
	}
	line(names, numeric)
	line(rules, func(int) bool { return false })
	for _, row := range cells {
		line(row, numeric)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isNumeric reports whether a DuckDB type prints as a number (right-aligned).
func isNumeric(t string) bool {
	if strings.HasSuffix(t, "]") { // a list or array of numbers prints as text
		return false
	}
	for _, p := range []string{"DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
		"UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT", "DOUBLE", "FLOAT"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func writeCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	names := make([]string, len(r.Columns))
	for j, c := range r.Columns {
		names[j] = c.Name
	}
	if err := cw.Write(names); err != nil {
		return err
	}
	for _, row := range r.Rows {
		rec := make([]string, len(row))
		for j, v := range row {
			rec[j] = Text(v, r.Columns[j].Type, "")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, r *Result) error {
	var b strings.Builder
	b.WriteString("[")
	for i, row := range r.Rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  {")
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			name, err := json.Marshal(r.Columns[j].Name)
			if err != nil {
				return err
			}
			val, err := json.Marshal(jsonValue(v, r.Columns[j].Type))
			if err != nil {
				return err
			}
			b.Write(name)
			b.WriteString(": ")
			b.Write(val)
		}
		b.WriteString("}")
	}
	if len(r.Rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonValue maps a value to what encoding/json prints exactly: decimals as json.Number (their
// exact digits), times as text, non-finite floats as strings.
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case duckdb.Decimal:
		return json.Number(DecimalString(x))
	case time.Time:
		return Text(x, typ, "")
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Text(x, typ, "")
		}
		return x
	case *big.Int:
		return json.Number(x.String())
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	}
	return v
}
