package event

import (
	"errors"
	"math"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
		err  error
	}{
		{"1.95", 1950, nil},
		{"-0.665", -665, nil},
		{"12", 12000, nil},
		{"+3.5", 3500, nil},
		{"0", 0, nil},
		{"-0", 0, nil},
		{"1.", 1000, nil},
		{".5", 500, nil},
		{"1.9500", 1950, nil}, // zeros beyond the third decimal carry no value
		{"0.001", 1, nil},
		{"007.10", 7100, nil},
		{"9223372036854775.807", math.MaxInt64, nil},
		{"-9223372036854775.808", math.MinInt64, nil},
		{"9223372036854775.808", 0, ErrMoneyRange},
		{"9223372036854775.999", 0, ErrMoneyRange}, // once wrapped to a negative amount
		{"-9223372036854775.809", 0, ErrMoneyRange},
		{"9223372036854776", 0, ErrMoneyRange},
		{"99999999999999999999", 0, ErrMoneyRange},
		{"1.9501", 0, ErrMoneyPrecision},
		{"0.0005", 0, ErrMoneyPrecision},
		{"1.000x", 0, ErrMoneySyntax},
		{"", 0, ErrMoneySyntax},
		{"-", 0, ErrMoneySyntax},
		{"+", 0, ErrMoneySyntax},
		{".", 0, ErrMoneySyntax},
		{"--1", 0, ErrMoneySyntax},
		{"$1.95", 0, ErrMoneySyntax},
		{"1,299.00", 0, ErrMoneySyntax},
		{" 1.95", 0, ErrMoneySyntax},
		{"1.95 ", 0, ErrMoneySyntax},
		{"1e3", 0, ErrMoneySyntax},
		{"1.2.3", 0, ErrMoneySyntax},
		{"١٢", 0, ErrMoneySyntax}, // Arabic-Indic digits are not ASCII digits
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in)
		if !errors.Is(err, tt.err) || (tt.err != nil && err == nil) {
			t.Errorf("ParseMoney(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		in   Money
		want string
	}{
		{1950, "1.95"},
		{665, "0.665"},
		{-2500, "-2.50"},
		{0, "0.00"},
		{1, "0.001"},
		{-1, "-0.001"},
		{10, "0.01"},
		{1000, "1.00"},
		{1234567, "1234.567"},
		{math.MaxInt64, "9223372036854775.807"},
		{math.MinInt64, "-9223372036854775.808"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		if got := string(tt.in.Append([]byte("x="))); got != "x="+tt.want {
			t.Errorf("Money(%d).Append = %q, want %q", int64(tt.in), got, "x="+tt.want)
		}
		back, err := ParseMoney(tt.want)
		if err != nil || back != tt.in {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", tt.want, back, err, tt.in)
		}
	}
}

func TestMoneyTimes(t *testing.T) {
	tests := []struct {
		m    Money
		n    int64
		want Money
		err  error
	}{
		{1950, 3, 5850, nil},
		{1950, -2, -3900, nil},
		{-665, -4, 2660, nil},
		{0, math.MaxInt64, 0, nil},
		{math.MaxInt64, 0, 0, nil},
		{math.MaxInt64, 1, math.MaxInt64, nil},
		{math.MaxInt64, -1, -math.MaxInt64, nil},
		{math.MinInt64, 1, math.MinInt64, nil},
		{math.MinInt64, -1, 0, ErrMoneyRange},
		{-1, math.MinInt64, 0, ErrMoneyRange},
		{math.MaxInt64/2 + 1, 2, 0, ErrMoneyRange},
		{4611686018427387904, 2, 0, ErrMoneyRange}, // exactly 2^63
		{-4611686018427387904, 2, math.MinInt64, nil},
		{3037000500, 3037000500, 0, ErrMoneyRange}, // just above sqrt(2^63)
		{3037000499, 3037000499, 9223372030926249001, nil},
	}
	for _, tt := range tests {
		got, err := tt.m.Times(tt.n)
		if !errors.Is(err, tt.err) || (tt.err != nil && err == nil) {
			t.Errorf("Money(%d).Times(%d) error = %v, want %v", int64(tt.m), tt.n, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("Money(%d).Times(%d) = %d, want %d", int64(tt.m), tt.n, int64(got), int64(tt.want))
		}
	}
}

func TestMoneyCents(t *testing.T) {
	tests := []struct {
		in   Money
		want int64
	}{
		{1950, 195},
		{1954, 195},
		{1955, 196}, // half away from zero
		{-1955, -196},
		{-1954, -195},
		{665, 67},
		{-665, -67},
		{4, 0},
		{5, 1},
		{-5, -1},
		{-4, 0},
		{0, 0},
		{math.MaxInt64, 922337203685477581}, // ...807 rounds up without overflowing
		{math.MinInt64, -922337203685477581},
	}
	for _, tt := range tests {
		if got := tt.in.Cents(); got != tt.want {
			t.Errorf("Money(%d).Cents() = %d, want %d", int64(tt.in), got, tt.want)
		}
	}
}

func TestMoneyText(t *testing.T) {
	var m Money
	if err := m.UnmarshalText([]byte("4.95")); err != nil || m != 4950 {
		t.Fatalf("UnmarshalText(4.95) = %d, %v; want 4950", m, err)
	}
	err := m.UnmarshalText([]byte("4.955 GBP"))
	if !errors.Is(err, ErrMoneySyntax) {
		t.Fatalf("UnmarshalText(4.955 GBP) error = %v, want ErrMoneySyntax", err)
	}
	if m != 4950 {
		t.Errorf("a failed UnmarshalText changed the value to %d", m)
	}
	b, _ := Money(-1).MarshalText()
	if string(b) != "-0.001" {
		t.Errorf("MarshalText(-1) = %q, want -0.001", b)
	}
}

func TestTransactionLineAmount(t *testing.T) {
	tests := []struct {
		typ  TxType
		qty  int64
		unit Money
		want Money
		err  error
	}{
		{Purchase, 2, 4950, 9900, nil},
		{Refund, 2, 4950, -9900, nil},
		{Return, 3, 665, -1995, nil},
		{Purchase, math.MaxInt64, 2, 0, ErrMoneyRange},
	}
	for _, tt := range tests {
		l := TransactionLine{Type: tt.typ, Quantity: tt.qty, UnitPrice: tt.unit}
		got, err := l.Amount()
		if !errors.Is(err, tt.err) || (tt.err != nil && err == nil) || got != tt.want {
			t.Errorf("%s %d × %d: Amount() = %d, %v; want %d, %v", tt.typ, tt.qty, tt.unit, got, err, tt.want, tt.err)
		}
	}
}

func BenchmarkMoneyString(b *testing.B) {
	m := Money(1234567)
	for b.Loop() {
		_ = m.String()
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"1.95", "-0.665", "9223372036854775.807", "-9223372036854775.808", "1.9500", "+.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("ParseMoney(%q) = %d, but its String %q parses to %d, %v", s, m, m.String(), back, err)
		}
	})
}
