package event

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an exact amount in thousandths of the currency unit (1.950 GBP = 1950). The Online Retail
// data has prices with three decimals, so thousandths keep every price and every sum exact; floats
// are never used for money.
type Money int64

// MoneyScale is the number of Money units in one currency unit.
const MoneyScale = 1000

// Errors returned by ParseMoney and the Money arithmetic.
var (
	// ErrMoneySyntax is returned when a text is not a plain decimal number.
	ErrMoneySyntax = errors.New("event: money: not a decimal number")
	// ErrMoneyPrecision is returned when a text has more than three decimals.
	ErrMoneyPrecision = errors.New("event: money: more than 3 decimals")
	// ErrMoneyRange is returned when an amount or a product overflows int64 thousandths.
	ErrMoneyRange = errors.New("event: money: out of range")
)

// ParseMoney parses a plain decimal such as "1.95", "-0.665" or "12". It accepts an optional sign,
// digits, and at most three decimals; nothing else (no currency symbols, separators or exponents:
// cleaning those is the inventory processor's job). Every value String returns parses back to the
// same Money, including the extremes of int64.
func ParseMoney(s string) (Money, error) {
	if s == "" {
		return 0, ErrMoneySyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, ErrMoneySyntax
	}
	if len(frac) > 3 {
		// Trailing zeros beyond the third decimal carry no value ("1.9500").
		for i := 3; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, ErrMoneySyntax
			}
		}
		if strings.TrimRight(frac[3:], "0") != "" {
			return 0, ErrMoneyPrecision
		}
		frac = frac[:3]
	}
	// The magnitude is accumulated unsigned so that the most negative amount, whose magnitude is
	// one more than the largest positive one, still parses.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var units uint64
	for i := 0; i < len(whole); i++ {
		c := whole[i]
		if c < '0' || c > '9' {
			return 0, ErrMoneySyntax
		}
		if units > (limit-uint64(c-'0'))/10 {
			return 0, ErrMoneyRange
		}
		units = units*10 + uint64(c-'0')
	}
	if units > limit/MoneyScale {
		return 0, ErrMoneyRange
	}
	units *= MoneyScale
	var thousandths uint64
	scale := uint64(100)
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, ErrMoneySyntax
		}
		thousandths += uint64(c-'0') * scale
		scale /= 10
	}
	if units > limit-thousandths {
		return 0, ErrMoneyRange
	}
	units += thousandths
	if neg {
		// For the most negative amount int64(units) wraps to MinInt64, and negating it stays there.
		return Money(-int64(units)), nil
	}
	return Money(units), nil
}

// MustMoney is ParseMoney for constants in tests and examples; it panics on a bad literal.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(fmt.Sprintf("event.MustMoney(%q): %s", s, err))
	}
	return m
}

// String formats m with at least two decimals and a third only when it is not zero
// (1950 → "1.95", 665 → "0.665", -2500 → "-2.50").
func (m Money) String() string {
	var buf [24]byte
	return string(m.Append(buf[:0]))
}

// Append appends the String form of m to dst; encoders use it to format amounts without
// allocating.
func (m Money) Append(dst []byte) []byte {
	v := int64(m)
	var u uint64
	if v < 0 {
		dst = append(dst, '-')
		u = uint64(-(v + 1)) + 1 // safe for MinInt64
	} else {
		u = uint64(v)
	}
	dst = strconv.AppendUint(dst, u/MoneyScale, 10)
	frac := u % MoneyScale
	dst = append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10))
	if d := frac % 10; d != 0 {
		dst = append(dst, byte('0'+d))
	}
	return dst
}

// Cents returns m rounded to whole cents, half away from zero, for reports that show cents.
func (m Money) Cents() int64 {
	// Quotient and remainder rather than (v+5)/10, which would overflow near the ends of int64.
	q, r := int64(m)/10, int64(m)%10
	switch {
	case r >= 5:
		q++
	case r <= -5:
		q--
	}
	return q
}

// Times returns m × n, or ErrMoneyRange when the product does not fit.
func (m Money) Times(n int64) (Money, error) {
	if n == 0 || m == 0 {
		return 0, nil
	}
	p := int64(m) * n
	if p/n != int64(m) || (n == -1 && int64(m) == math.MinInt64) {
		return 0, ErrMoneyRange
	}
	return Money(p), nil
}

// Float returns m as a float64 for display-only ratios (never sum the result).
func (m Money) Float() float64 { return float64(m) / MoneyScale }

// MarshalText encodes m as its decimal string, so JSON carries "1.95" and never a float.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a decimal string written by MarshalText or by any producer.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return fmt.Errorf("%q: %w", b, err)
	}
	*m = v
	return nil
}

// FormatUnits formats an integer amount of Money units; it exists so that sums kept as int64 in
// tables print the same way as Money.
func FormatUnits(units int64) string { return Money(units).String() }
