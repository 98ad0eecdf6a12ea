package inventory

import (
	"errors"
	"strconv"
	"strings"
	"unicode"

	"github.com/shopease/shopease/event"
)

// MaxUnits is the largest stock level or restock the gateway believes; more is a typing or
// mapping error (an EAN in the quantity column), rejected as bad_quantity.
const MaxUnits = 10_000_000

// Errors of the standardization rules; the gateway turns them into reason codes.
var (
	// ErrQuantity is returned by StandardUnits for text that is not a whole number of units.
	ErrQuantity = errors.New("inventory: quantity is not a whole number of units")
	// ErrPrice is returned by StandardMoney for text that is not an amount.
	ErrPrice = errors.New("inventory: not an amount")
)

// StandardSKU returns the canonical SKU: surrounding white space trimmed, upper case
// (" p0007 " → "P0007"). Views are looked up by it.
func StandardSKU(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// StandardType returns the update type: trimmed, lower case, spaces and hyphens as underscores
// ("Stock Report" → "stock_report"). The result may still be unknown (bad_type).
func StandardType(s string) event.InventoryType {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
	return event.InventoryType(s)
}

// StandardName trims a product name and collapses runs of white space into one space.
func StandardName(s string) string { return strings.Join(strings.Fields(s), " ") }

// StandardCategory returns the canonical category name: lower case, "&" read as the word "and",
// split on white space, each word with its first letter upper case and the word "and" written
// "&", joined by one space ("HOME&KITCHEN", "home and kitchen", "  Home &  Kitchen " →
// "Home & Kitchen"). Every canonical name is a fixed point.
func StandardCategory(s string) string {
	words := strings.Fields(strings.ReplaceAll(strings.ToLower(s), "&", " and "))
	for i, w := range words {
		if w == "and" {
			words[i] = "&"
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// StandardMoney parses a price or cost as received: white space, currency symbols ("$", "£",
// "€") and thousands separators (",") are dropped, then the rest must be a plain decimal with at
// most three decimals ("$1,299.00" → 1299.00). A sign is kept, so "-$5" parses to -5 (the
// gateway rejects negative amounts).
func StandardMoney(s string) (event.Money, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '$' || r == '£' || r == '€' || r == ',' {
			return -1
		}
		return r
	}, s)
	m, err := event.ParseMoney(s)
	if err != nil {
		return 0, errors.Join(ErrPrice, err)
	}
	return m, nil
}

// StandardUnits parses a quantity as received: trimmed, a trailing unit word (letters, with an
// optional final ".") and the white space before it dropped, thousands separators (",")
// dropped, then an integer with an optional sign ("12 pcs", "12pcs", "1,200 units" → 12, 12,
// 1200). A sign is kept, so "-3 pcs" parses to -3 (the gateway rejects negative units).
func StandardUnits(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, ".")
	s = strings.TrimRightFunc(s, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) })
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" || s == "+" || s == "-" {
		return 0, ErrQuantity
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9') && !(i == 0 && (c == '-' || c == '+')) {
			return 0, ErrQuantity
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.Join(ErrQuantity, err) // out of int64's range
	}
	return n, nil
}
