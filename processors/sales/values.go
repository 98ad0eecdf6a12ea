package sales

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopease/shopease/event"
	"github.com/shopease/shopease/processors/fence"
)

// Month is the UTC calendar month of t as "2006-01": the month every sum is kept under.
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// Totals are the sums of accepted lines. Money sums are exact thousandths (event.Money); refund
// and return amounts are negative, so Net = Gross + Refunds + Returns.
type Totals struct {
	PurchaseLines int64       `json:"purchase_lines,omitempty"`
	RefundLines   int64       `json:"refund_lines,omitempty"`
	ReturnLines   int64       `json:"return_lines,omitempty"`
	UnitsSold     int64       `json:"units_sold,omitempty"`     // Σ quantity of purchase lines
	UnitsRefunded int64       `json:"units_refunded,omitempty"` // Σ quantity of refund lines
	UnitsReturned int64       `json:"units_returned,omitempty"` // Σ quantity of return lines
	Gross         event.Money `json:"gross"`                    // Σ purchase line amounts (≥ 0)
	Refunds       event.Money `json:"refunds"`                  // Σ refund line amounts (≤ 0)
	Returns       event.Money `json:"returns"`                  // Σ return line amounts (≤ 0)
}

// Net is the signed sum of every line: Gross + Refunds + Returns.
func (t Totals) Net() event.Money { return t.Gross + t.Refunds + t.Returns }

// Add adds one line. It fails only when the line amount overflows (quantity × unit price beyond
// int64 thousandths), which the gateway's limits exclude.
func (t *Totals) Add(l *event.TransactionLine) error {
	amount, err := l.Amount()
	if err != nil {
		return fmt.Errorf("sales: line amount: %w", err)
	}
	switch l.Type {
	case event.Purchase:
		t.PurchaseLines++
		t.UnitsSold += l.Quantity
		t.Gross += amount
	case event.Refund:
		t.RefundLines++
		t.UnitsRefunded += l.Quantity
		t.Refunds += amount
	case event.Return:
		t.ReturnLines++
		t.UnitsReturned += l.Quantity
		t.Returns += amount
	default:
		return fmt.Errorf("sales: line type %q", l.Type)
	}
	return nil
}

// Merge adds the sums of o to t.
func (t *Totals) Merge(o Totals) {
	t.PurchaseLines += o.PurchaseLines
	t.RefundLines += o.RefundLines
	t.ReturnLines += o.ReturnLines
	t.UnitsSold += o.UnitsSold
	t.UnitsRefunded += o.UnitsRefunded
	t.UnitsReturned += o.UnitsReturned
	t.Gross += o.Gross
	t.Refunds += o.Refunds
	t.Returns += o.Returns
}

// MonthTotals are one month's Totals.
type MonthTotals struct {
	Month string `json:"month"`
	Totals
}

// ProductSales is the sales table value of one product (key: product id).
type ProductSales struct {
	ProductID string `json:"product_id"`
	// Months holds the sums per UTC month of event time, oldest first.
	Months []MonthTotals `json:"months"`
	// Latest is the newest event time of an applied line: the reports' default as-of date is the
	// newest Latest over all products.
	Latest time.Time `json:"latest"`
	// Fence skips lines applied before (package fence); origins are raw transactions partitions.
	Fence fence.Vector `json:"fence,omitempty"`
}

// Month returns the sums of month ("2006-01"), zero when the product has no line in it.
func (p *ProductSales) Month(month string) Totals {
	i := sort.Search(len(p.Months), func(i int) bool { return p.Months[i].Month >= month })
	if i < len(p.Months) && p.Months[i].Month == month {
		return p.Months[i].Totals
	}
	return Totals{}
}

// Add adds a line (already admitted by the fence) to its month.
func (p *ProductSales) Add(l *event.TransactionLine) error {
	month := Month(l.Time)
	i := sort.Search(len(p.Months), func(i int) bool { return p.Months[i].Month >= month })
	if i == len(p.Months) || p.Months[i].Month != month {
		p.Months = append(p.Months, MonthTotals{})
		copy(p.Months[i+1:], p.Months[i:])
		p.Months[i] = MonthTotals{Month: month}
	}
	if err := p.Months[i].Add(l); err != nil {
		return err
	}
	if l.Time.After(p.Latest) {
		p.Latest = l.Time.UTC()
	}
	return nil
}

// OrderMonth is the revenue table value of one order in one month (key: OrderKey).
type OrderMonth struct {
	Month   string `json:"month"`
	OrderID string `json:"order_id"`
	Totals
	// Fence skips lines applied before. Lines reach this key from several sales partitions, so
	// each fence source is a raw partition seen through one sales partition (see via).
	Fence fence.Vector `json:"fence,omitempty"`
}

// Counted reports whether the order counts among the month's orders: it has at least one
// accepted purchase line in the month.
func (o *OrderMonth) Counted() bool { return o.PurchaseLines > 0 }

// OrderKey is the revenue table key of an order in a month: "2006-01|order id". Keys of one month
// share the prefix "2006-01|", so a month is a prefix scan.
func OrderKey(month, orderID string) string { return month + "|" + orderID }

// SplitOrderKey splits an OrderKey.
func SplitOrderKey(key string) (month, orderID string, ok bool) {
	return strings.Cut(key, "|")
}

// ProductSalesCodec is the goka codec of the sales table (JSON; values are small: one entry per
// month and per raw partition).
type ProductSalesCodec struct{}

// Encode encodes a *ProductSales.
func (ProductSalesCodec) Encode(v any) ([]byte, error) {
	p, ok := v.(*ProductSales)
	if !ok || p == nil {
		return nil, fmt.Errorf("%w: %T", ErrCodec, v)
	}
	return json.Marshal(p)
}

// Decode decodes a *ProductSales.
func (ProductSalesCodec) Decode(b []byte) (any, error) {
	p := &ProductSales{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("sales: decode product sales: %w", err)
	}
	return p, nil
}

// OrderMonthCodec is the goka codec of the revenue table.
type OrderMonthCodec struct{}

// Encode encodes an *OrderMonth.
func (OrderMonthCodec) Encode(v any) ([]byte, error) {
	o, ok := v.(*OrderMonth)
	if !ok || o == nil {
		return nil, fmt.Errorf("%w: %T", ErrCodec, v)
	}
	return json.Marshal(o)
}

// Decode decodes an *OrderMonth.
func (OrderMonthCodec) Decode(b []byte) (any, error) {
	o := &OrderMonth{}
	if err := json.Unmarshal(b, o); err != nil {
		return nil, fmt.Errorf("sales: decode order month: %w", err)
	}
	return o, nil
}
