package lakesql

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/reports"
)

// ErrNoTransactions is returned by the reports when the lake holds no transaction line and no
// --as-of date was given: there is no month to report on.
var ErrNoTransactions = errors.New("lakesql: no transactions in the lake")

// AsOf returns asOf in UTC, or, when it is zero, the newest event time of any transaction line in
// the lake (view report_as_of), as the live reports default to.
func (d *DB) AsOf(ctx context.Context, asOf time.Time) (time.Time, error) {
	if !asOf.IsZero() {
		return asOf.UTC(), nil
	}
	var t *time.Time
	if err := d.db.QueryRowContext(ctx, "SELECT as_of FROM report_as_of").Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("lakesql: as-of: %w", err)
	}
	if t == nil {
		return time.Time{}, fmt.Errorf("%w at %s", ErrNoTransactions, d.lakeDir)
	}
	return t.UTC(), nil
}

// sqlTime is t as a TIMESTAMPTZ literal's text (bound as a string: the driver would drop the zone).
func sqlTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999+00") }

// MonthlyRevenue is view monthly_revenue for every month up to asOf's month (zero: the newest
// event time), as package reports' rows.
func (d *DB) MonthlyRevenue(ctx context.Context, asOf time.Time) ([]reports.MonthRow, error) {
	at, err := d.AsOf(ctx, asOf)
	if err != nil {
		return nil, err
	}
	res, err := d.Query(ctx, `SELECT month, gross, refunds, returns, net, orders, purchase_lines, refund_lines,
		return_lines, units_sold, change, change_pct FROM monthly_revenue WHERE month <= ? ORDER BY month`,
		at.Format("2006-01"))
	if err != nil {
		return nil, fmt.Errorf("monthly revenue: %w", err)
	}
	var out []reports.MonthRow
	for _, row := range res.Rows {
		var r reports.MonthRow
		s := scanner{row: row}
		r.Month = s.string()
		r.Gross, r.Refunds, r.Returns, r.Net = s.money(), s.money(), s.money(), s.money()
		r.Orders, r.PurchaseLines, r.RefundLines, r.ReturnLines, r.UnitsSold = s.int(), s.int(), s.int(), s.int(), s.int()
		r.Change, r.ChangePct = s.optMoney(), s.optFloat()
		if s.err != nil {
			return nil, fmt.Errorf("monthly revenue %s: %w", r.Month, s.err)
		}
		out = append(out, r)
	}
	return out, nil
}

// TopProducts is the top products report over the last complete UTC calendar month before asOf
// (zero: the newest event time), from macro top_products.
func (d *DB) TopProducts(ctx context.Context, asOf time.Time) (reports.Top, error) {
	at, err := d.AsOf(ctx, asOf)
	if err != nil {
		return reports.Top{}, err
	}
	return d.TopProductsOf(ctx, reports.PreviousMonth(at))
}

// TopProductsOf ranks the products of month ("2006-01").
func (d *DB) TopProductsOf(ctx context.Context, month string) (reports.Top, error) {
	res, err := d.Query(ctx, "SELECT rank, product_id, units, gross FROM top_products(?) ORDER BY rank", month)
	if err != nil {
		return reports.Top{}, fmt.Errorf("top products of %s: %w", month, err)
	}
	top := reports.Top{Month: month}
	for _, row := range res.Rows {
		s := scanner{row: row}
		r := reports.TopRow{Rank: int(s.int()), ProductID: s.string(), Units: s.int(), Gross: s.money()}
		if s.err != nil {
			return reports.Top{}, fmt.Errorf("top products of %s: %w", month, s.err)
		}
		top.Rows = append(top.Rows, r)
	}
	return top, nil
}

// InventoryTurnover is macro inventory_turnover_at(asOf) (zero: the newest event time), ordered by
// month then product id, as package reports' rows.
func (d *DB) InventoryTurnover(ctx context.Context, asOf time.Time) ([]reports.TurnoverRow, error) {
	at, err := d.AsOf(ctx, asOf)
	if err != nil {
		return nil, err
	}
	res, err := d.Query(ctx, `SELECT month, product_id, units_sold, unit_cost, cogs, closing_days,
		closing_units_sum, closing_value_sum, avg_on_hand, avg_inventory_value, turnover, value_turnover,
		days_of_inventory FROM inventory_turnover_at(CAST(? AS TIMESTAMPTZ)) ORDER BY month, product_id`, sqlTime(at))
	if err != nil {
		return nil, fmt.Errorf("inventory turnover: %w", err)
	}
	var out []reports.TurnoverRow
	for _, row := range res.Rows {
		var r reports.TurnoverRow
		s := scanner{row: row}
		r.Month, r.ProductID, r.UnitsSold = s.string(), s.string(), s.int()
		r.UnitCost, r.COGS = s.optMoney(), s.optMoney()
		r.ClosingDays, r.ClosingUnitsSum, r.ClosingValueSum = s.int(), s.int(), s.money()
		r.AvgOnHand, r.AvgInventoryValue = s.float(), s.money()
		r.Turnover, r.ValueTurnover, r.DaysOfInventory = s.optFloat(), s.optFloat(), s.optFloat()
		if s.err != nil {
			return nil, fmt.Errorf("inventory turnover %s %s: %w", r.Month, r.ProductID, s.err)
		}
		out = append(out, r)
	}
	return out, nil
}

// scanner reads one result row's values in order into Go types, keeping the first error.
type scanner struct {
	row []any
	i   int
	err error
}

func (s *scanner) next() any {
	if s.i >= len(s.row) {
		s.fail(errors.New("too few columns"))
		return nil
	}
	v := s.row[s.i]
	s.i++
	return v
}

func (s *scanner) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("column %d: %w", s.i, err)
	}
}

func (s *scanner) string() string {
	v, ok := s.next().(string)
	if !ok {
		s.fail(errors.New("not a string"))
	}
	return v
}

func (s *scanner) int() int64 {
	switch v := s.next().(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case *big.Int: // SUM of BIGINT is a HUGEINT
		if v.IsInt64() {
			return v.Int64()
		}
	}
	s.fail(errors.New("not an integer within int64"))
	return 0
}

func (s *scanner) float() float64 {
	v, ok := s.next().(float64)
	if !ok {
		s.fail(errors.New("not a double"))
	}
	return v
}

func (s *scanner) optFloat() *float64 {
	if s.i < len(s.row) && s.row[s.i] == nil {
		s.i++
		return nil
	}
	f := s.float()
	return &f
}

func (s *scanner) money() event.Money {
	v, ok := s.next().(duckdb.Decimal)
	if !ok {
		s.fail(errors.New("not a decimal"))
		return 0
	}
	m, err := Money(v)
	if err != nil {
		s.fail(err)
	}
	return m
}

func (s *scanner) optMoney() *event.Money {
	if s.i < len(s.row) && s.row[s.i] == nil {
		s.i++
		return nil
	}
	m := s.money()
	return &m
}

// ErrNotMoney is returned by Money for a decimal with more than three decimals that are not
// zeros, or beyond int64 thousandths.
var ErrNotMoney = errors.New("lakesql: decimal is not exact money")

// Money converts a DuckDB decimal to exact thousandths.
func Money(d duckdb.Decimal) (event.Money, error) {
	if d.Value == nil {
		return 0, nil
	}
	v := new(big.Int).Set(d.Value)
	scale := int64(d.Scale)
	switch {
	case scale < 3:
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(3-scale), nil))
	case scale > 3:
		var rem big.Int
		v.QuoRem(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(scale-3), nil), &rem)
		if rem.Sign() != 0 {
			return 0, fmt.Errorf("%w: %s", ErrNotMoney, DecimalString(d))
		}
	}
	if !v.IsInt64() {
		return 0, fmt.Errorf("%w: %s", ErrNotMoney, DecimalString(d))
	}
	return event.Money(v.Int64()), nil
}
