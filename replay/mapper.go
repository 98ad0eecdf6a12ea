package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopease/shopease/event"
)

// record is a mapped row, ready to send: value is the event in the codecs wire format.
type record struct {
	key   []byte
	value []byte
	time  time.Time
}

// rejection is why a row did not become a record.
type rejection struct {
	reason event.Reason
	detail string
}

// fileMapper maps the rows of one file through one Mapping. It holds per-file state: the line
// ordinals of a LineIDRule are counted within the file.
type fileMapper struct {
	m        *Mapping
	ds       dataset
	file     string // base name, for the events' Source ("2011-01-04.csv:17")
	slot     map[string]int
	colSlot  []int          // CSV: column index → slot, -1 when unmapped
	keySlot  map[string]int // JSON: key → slot
	intFloat []bool
	consts   []string
	layout   string
	loc      *time.Location
	key      int
	ordinals map[string]int64
	texts    []string
}

// newFileMapper compiles m for one file; header is the CSV header (nil for JSON). A CSV header
// that lacks a mapped column makes the file unreadable: no row of it could map.
func newFileMapper(m *Mapping, ds dataset, file string, header []string) (*fileMapper, error) {
	fields := ds.fields()
	f := &fileMapper{
		m: m, ds: ds, file: file,
		slot:     make(map[string]int, len(fields)),
		intFloat: make([]bool, len(fields)),
		consts:   make([]string, len(fields)),
		texts:    make([]string, len(fields)),
		layout:   time.RFC3339,
		loc:      time.UTC,
		ordinals: map[string]int64{},
	}
	for i, name := range fields {
		f.slot[name] = i
	}
	if m.TimeLayout != "" {
		f.layout = m.TimeLayout
	}
	if m.TimeZone != "" {
		loc, err := time.LoadLocation(m.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("%w: time zone %q: %w", ErrMapping, m.TimeZone, err)
		}
		f.loc = loc
	}
	for _, name := range m.IntegerFloat {
		f.intFloat[f.slot[name]] = true
	}
	for name, v := range m.Constants {
		f.consts[f.slot[name]] = v
	}
	key := m.Key
	if key == "" {
		key = ds.defaultKey()
	}
	f.key = f.slot[key]
	if header == nil {
		f.keySlot = make(map[string]int, len(m.Columns))
		for col, field := range m.Columns {
			f.keySlot[col] = f.slot[field]
		}
		return f, nil
	}
	f.colSlot = make([]int, len(header))
	found := map[string]bool{}
	for i, h := range header {
		f.colSlot[i] = -1
		for col, field := range m.Columns {
			if strings.EqualFold(strings.TrimSpace(h), col) {
				f.colSlot[i] = f.slot[field]
				found[col] = true
			}
		}
	}
	var missing []string
	for col := range m.Columns {
		if !found[col] {
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: header lacks column(s) %s of mapping %s", ErrUnreadable, strings.Join(missing, ", "), m.Name)
	}
	return f, nil
}

// mapRow turns a row that the reader accepted into a record, or says why it cannot.
func (f *fileMapper) mapRow(r *row) (record, *rejection) {
	source := f.file + ":" + strconv.FormatInt(r.line, 10)
	if f.m.direct && r.fields == nil {
		return f.direct(r.raw, source)
	}
	if rej := f.fillTexts(r); rej != nil {
		return record{}, rej
	}
	v := f.texts
	for i, c := range f.consts {
		if c != "" && v[i] == "" {
			v[i] = c
		}
	}
	for i, yes := range f.intFloat {
		if yes {
			v[i] = integerFloat(v[i])
		}
	}
	switch f.ds {
	case dsTransactions:
		return f.transaction(v, source)
	case dsInventory:
		return f.inventory(v, source)
	case dsActivity:
		return f.activity(v)
	default:
		return f.review(v, source)
	}
}

// fillTexts puts the row's mapped values into f.texts by slot.
func (f *fileMapper) fillTexts(r *row) *rejection {
	clear(f.texts)
	if r.fields != nil {
		for i, s := range r.fields {
			if slot := f.colSlot[i]; slot >= 0 {
				f.texts[slot] = s
			}
		}
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r.raw, &obj); err != nil {
		return &rejection{event.ReasonMalformed, err.Error()}
	}
	for k, raw := range obj {
		slot, ok := f.keySlot[k]
		if !ok {
			continue
		}
		s, err := jsonText(raw)
		if err != nil {
			return &rejection{event.ReasonBadField, fmt.Sprintf("%s: %s", k, err)}
		}
		f.texts[slot] = s
	}
	return nil
}

// jsonText gives a JSON scalar as text: a string unquoted, a number or boolean as written, null
// as "". Objects and arrays cannot fill an event field.
func jsonText(raw json.RawMessage) (string, error) {
	switch {
	case len(raw) == 0:
		return "", nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case raw[0] == '{' || raw[0] == '[':
		return "", errors.New("an object or array where a value belongs")
	case string(raw) == "null":
		return "", nil
	}
	return string(raw), nil
}

// integerFloat writes "17850.0" as "17850"; anything else is left as it is.
func integerFloat(s string) string {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || whole == "" || strings.Trim(frac, "0") != "" {
		return s
	}
	for _, c := range whole {
		if c < '0' || c > '9' {
			return s
		}
	}
	return whole
}

func (f *fileMapper) parseTime(s string) (time.Time, *rejection) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, &rejection{event.ReasonBadField, "time: empty"}
	}
	t, err := time.ParseInLocation(f.layout, s, f.loc)
	if err != nil {
		return time.Time{}, &rejection{event.ReasonBadField, fmt.Sprintf("time %q: not %s", clip(s), f.layout)}
	}
	return t.UTC(), nil
}

// clip bounds a typed field's text quoted in a detail (never a free-text field: those may hold a
// raw user id).
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
