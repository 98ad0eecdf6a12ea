package replay

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

// Built-in profile names.
const (
	ProfileShopEase     = "shopease"
	ProfileOnlineRetail = "online-retail"
)

//go:embed profiles/online-retail.json
var onlineRetailJSON []byte

// profile is a set of mappings, at most one per dataset.
type profile struct {
	name     string
	mappings map[dataset]*Mapping
}

var builtinProfiles = map[string]*profile{
	ProfileShopEase:     shopEaseProfile(),
	ProfileOnlineRetail: mustProfile(ProfileOnlineRetail, onlineRetailJSON),
}

func profileNames() string {
	var names []string
	for n := range builtinProfiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// shopEaseProfile maps the generator's files (docs/formats.md): every column is named as its
// event field, so the mappings are the identity. JSON rows of this profile are decoded straight
// into the event structs (the fast path).
func shopEaseProfile() *profile {
	p := &profile{name: ProfileShopEase, mappings: map[dataset]*Mapping{}}
	for _, d := range datasets {
		m := &Mapping{Name: ProfileShopEase, Dataset: string(d), Columns: map[string]string{}, direct: true}
		for _, f := range d.fields() {
			m.Columns[f] = f
		}
		switch d {
		case dsTransactions, dsInventory:
			m.Header = d.fields()
		}
		p.mappings[d] = m
	}
	return p
}

func mustProfile(name string, mappingJSON []byte) *profile {
	m, err := ParseMapping(mappingJSON)
	if err != nil {
		panic(fmt.Sprintf("built-in profile %s: %s", name, err))
	}
	return &profile{name: name, mappings: map[dataset]*Mapping{dataset(m.Dataset): m}}
}

// resolver picks the dataset and mapping of each file from the config: an explicit profile or
// mapping file, else the built-in profile whose header a CSV file has, else "shopease".
type resolver struct {
	fixed    *profile // nil: choose per file
	override dataset
}

func newResolver(cfg *Config) (*resolver, error) {
	r := &resolver{override: dataset(cfg.Dataset)}
	switch {
	case cfg.MappingFile != "":
		m, err := LoadMapping(cfg.MappingFile)
		if err != nil {
			return nil, err
		}
		if r.override != "" && r.override != dataset(m.Dataset) {
			return nil, fmt.Errorf("%w: dataset %q given, mapping file is for %q", ErrConfig, r.override, m.Dataset)
		}
		r.fixed = &profile{name: m.Name, mappings: map[dataset]*Mapping{dataset(m.Dataset): m}}
	case cfg.Profile != "":
		r.fixed = builtinProfiles[cfg.Profile]
	}
	return r, nil
}

// resolve returns the dataset and mapping of the file at path; header is its CSV header (nil
// for JSON).
func (r *resolver) resolve(path string, header []string) (dataset, *Mapping, error) {
	candidates := r.candidates()
	d := r.override
	if d == "" {
		if fromPath, ok := datasetFromPath(path); ok {
			d = fromPath
		}
	}
	if d == "" && header != nil {
		for _, m := range candidates {
			if m.matchesHeader(header) {
				d = dataset(m.Dataset)
				break
			}
		}
	}
	if d == "" {
		if r.fixed != nil && len(r.fixed.mappings) == 1 {
			for only := range r.fixed.mappings {
				d = only
			}
		} else {
			return "", nil, fmt.Errorf("%w %s: not in its path, not in its header; give the dataset", ErrNoDataset, path)
		}
	}
	if r.fixed != nil {
		m, ok := r.fixed.mappings[d]
		if !ok {
			return "", nil, fmt.Errorf("%w: %s: profile %s has no mapping for dataset %s", ErrConfig, path, r.fixed.name, d)
		}
		return d, m, nil
	}
	for _, m := range candidates {
		if dataset(m.Dataset) == d && m.matchesHeader(header) {
			return d, m, nil
		}
	}
	return d, builtinProfiles[ProfileShopEase].mappings[d], nil
}

// candidates lists the mappings whose header may identify a file, in a fixed order.
func (r *resolver) candidates() []*Mapping {
	var ps []*profile
	if r.fixed != nil {
		ps = []*profile{r.fixed}
	} else {
		ps = []*profile{builtinProfiles[ProfileShopEase], builtinProfiles[ProfileOnlineRetail]}
	}
	var ms []*Mapping
	for _, p := range ps {
		for _, d := range datasets {
			if m, ok := p.mappings[d]; ok {
				ms = append(ms, m)
			}
		}
	}
	return ms
}
