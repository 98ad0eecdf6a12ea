package reports

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/shopease/shopease/event"
)

// Formats are the output formats Write knows.
var Formats = []string{"table", "csv", "json"}

// ErrFormat is returned for an unknown output format.
var ErrFormat = errors.New("reports: unknown format")

// Table is a report laid out as text cells: money with its exact decimals, ratios with two.
type Table struct {
	Header []string
	Rows   [][]string
}

// Write writes a report: "table" (aligned columns), "csv" (header line first) or "json" (value
// marshalled as is: money as exact decimal strings).
func Write(w io.Writer, format string, t Table, value any) error {
	switch format {
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, r := range append([][]string{t.Header}, t.Rows...) {
			for _, c := range r {
				fmt.Fprint(tw, c, "\t")
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("reports: write table: %w", err)
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Header); err != nil {
			return fmt.Errorf("reports: write csv: %w", err)
		}
		if err := cw.WriteAll(t.Rows); err != nil {
			return fmt.Errorf("reports: write csv: %w", err)
		}
		return nil
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(value); err != nil {
			return fmt.Errorf("reports: write json: %w", err)
		}
		return nil
	}
	return fmt.Errorf("%w %q (known: %v)", ErrFormat, format, Formats)
}

// RevenueTable lays out the monthly revenue report.
func RevenueTable(rows []MonthRow) Table {
	t := Table{Header: []string{"month", "gross", "refunds", "returns", "net", "orders", "net_change", "net_change_pct"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Month, r.Gross.String(), r.Refunds.String(), r.Returns.String(),
			r.Net.String(), strconv.FormatInt(r.Orders, 10), optMoney(r.Change), optFloat(r.ChangePct)})
	}
	return t
}

// TopTable lays out the top products report.
func TopTable(top Top) Table {
	t := Table{Header: []string{"month", "rank", "product_id", "units", "gross"}}
	for _, r := range top.Rows {
		t.Rows = append(t.Rows, []string{top.Month, strconv.Itoa(r.Rank), r.ProductID,
			strconv.FormatInt(r.Units, 10), r.Gross.String()})
	}
	return t
}

// TurnoverTable lays out the inventory turnover report.
func TurnoverTable(rows []TurnoverRow) Table {
	t := Table{Header: []string{"month", "product_id", "units_sold", "cogs", "closing_days", "avg_on_hand",
		"avg_inventory_value", "turnover", "value_turnover", "days_of_inventory"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Month, r.ProductID, strconv.FormatInt(r.UnitsSold, 10), optMoney(r.COGS),
			strconv.FormatInt(r.ClosingDays, 10), strconv.FormatFloat(r.AvgOnHand, 'f', 2, 64),
			r.AvgInventoryValue.String(), optFloat(r.Turnover), optFloat(r.ValueTurnover), optFloat(r.DaysOfInventory)})
	}
	return t
}

func optMoney(m *event.Money) string {
	if m == nil {
		return ""
	}
	return m.String()
}

func optFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', 2, 64)
}
