package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// ErrMapping is returned by LoadMapping and ParseMapping for a mapping that cannot work.
var ErrMapping = errors.New("replay: bad mapping")

// Mapping maps the fields of one source dataset onto the event model. The built-in profiles are
// sets of mappings; a mapping file (LoadMapping) holds one. docs/replay.md documents the format
// with an example; the built-in online-retail mapping is itself written in it
// (profiles/online-retail.json).
type Mapping struct {
	// Name identifies the mapping in the manifest and in summaries.
	Name string `json:"name"`
	// Dataset is the event dataset the rows become: transactions, inventory, activity, feedback.
	Dataset string `json:"dataset"`
	// Header is a CSV header line that identifies this source when no profile is given.
	Header []string `json:"header,omitempty"`
	// Columns maps a source column (CSV header name or JSON key) to an event field, named by its
	// JSON name in package event (order_id, quantity, time, ...).
	Columns map[string]string `json:"columns"`
	// TimeLayout is the Go layout of the time column (default RFC 3339); TimeZone the IANA zone
	// for layouts without an offset (default UTC).
	TimeLayout string `json:"time_layout,omitempty"`
	TimeZone   string `json:"time_zone,omitempty"`
	// IntegerFloat lists event fields written as floats with a zero fraction ("17850.0") that
	// are integers ("17850").
	IntegerFloat []string `json:"integer_float,omitempty"`
	// Constants sets event fields the source does not have (e.g. currency).
	Constants map[string]string `json:"constants,omitempty"`
	// Type derives a transaction line's type from its fields.
	Type *TypeRules `json:"type,omitempty"`
	// LineID derives the line id for sources without one.
	LineID *LineIDRule `json:"line_id,omitempty"`
	// Key names the event field used as record key (default: the dataset's key in docs/formats.md).
	Key string `json:"key,omitempty"`

	// direct: JSON rows are decoded straight into the event with the strict codec (the built-in
	// shopease profile, whose JSON is the event model's own).
	direct bool
}

// TypeRules set a transaction line's type: the first rule whose field starts with its prefix
// wins, else the type column, else Default.
type TypeRules struct {
	Default string     `json:"default,omitempty"`
	Rules   []TypeRule `json:"rules,omitempty"`
}

// TypeRule is one type rule; NegateQuantity flips the sign of the quantity, for sources that
// write returns as negative units.
type TypeRule struct {
	Field          string `json:"field"`
	Prefix         string `json:"prefix"`
	Type           string `json:"type"`
	NegateQuantity bool   `json:"negate_quantity,omitempty"`
}

// LineIDRule derives a line id as the value of OrdinalWithin (e.g. order_id), "-", and the
// row's 1-based ordinal among the rows of the file with that value, in file order. It depends
// on content only, so it is stable across renames and replays, and content-identical rows at
// different positions get distinct ids.
type LineIDRule struct {
	OrdinalWithin string `json:"ordinal_within"`
}

// LoadMapping reads and checks a mapping file.
func LoadMapping(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMapping, err)
	}
	m, err := ParseMapping(b)
	if err != nil {
		return nil, fmt.Errorf("mapping file %s: %w", path, err)
	}
	return m, nil
}

// ParseMapping parses and checks a mapping; unknown keys are errors, so a typo is not silently
// ignored.
func ParseMapping(b []byte) (*Mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMapping, err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Mapping) check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrMapping}, args...)...))
	}
	if m.Name == "" {
		bad("no name")
	}
	ds := dataset(m.Dataset)
	if !validDataset(m.Dataset) {
		bad("unknown dataset %q (one of %s)", m.Dataset, datasetNames())
		return errors.Join(errs...)
	}
	fields := ds.fields()
	known := func(f string) bool { return slices.Contains(fields, f) }
	if len(m.Columns) == 0 {
		bad("no columns")
	}
	seen := map[string]string{}
	for col, f := range m.Columns {
		if !known(f) {
			bad("column %q maps to unknown %s field %q (fields: %s)", col, ds, f, strings.Join(fields, ", "))
		}
		if other, dup := seen[f]; dup {
			bad("columns %q and %q both map to %q", other, col, f)
		}
		seen[f] = col
	}
	for _, f := range m.IntegerFloat {
		if !known(f) {
			bad("integer_float names unknown field %q", f)
		}
	}
	for f := range m.Constants {
		if !known(f) {
			bad("constant for unknown field %q", f)
		}
	}
	if m.TimeZone != "" {
		if _, err := time.LoadLocation(m.TimeZone); err != nil {
			bad("time zone %q: %s", m.TimeZone, err)
		}
	}
	if m.Type != nil {
		if ds != dsTransactions {
			bad("type rules apply to transactions only")
		}
		for _, r := range m.Type.Rules {
			if !known(r.Field) || r.Prefix == "" || r.Type == "" {
				bad("type rule needs a known field, a prefix and a type: %+v", r)
			}
		}
	}
	if m.LineID != nil && (ds != dsTransactions || !known(m.LineID.OrdinalWithin)) {
		bad("line_id.ordinal_within must name a transactions field")
	}
	if m.Key != "" && !known(m.Key) {
		bad("key names unknown field %q", m.Key)
	}
	return errors.Join(errs...)
}

// matchesHeader reports whether a CSV header is this mapping's identifying header.
func (m *Mapping) matchesHeader(header []string) bool {
	if len(m.Header) == 0 || len(m.Header) != len(header) {
		return false
	}
	for i, h := range header {
		if !strings.EqualFold(strings.TrimSpace(h), m.Header[i]) {
			return false
		}
	}
	return true
}
