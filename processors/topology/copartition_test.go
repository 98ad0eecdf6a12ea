package topology

import (
	"errors"
	"testing"
)

func TestCheckCopartitioned(t *testing.T) {
	cases := []struct {
		name  string
		parts map[string]int32
		names []string
		want  error
		msg   string
	}{
		{"same count", map[string]int32{"a": 8, "b": 8}, []string{"a", "b"}, nil, ""},
		{"differs", map[string]int32{"a": 8, "b": 4, "c": 8}, []string{"a", "b", "c"}, ErrNotCopartitioned,
			"topology: topics are not co-partitioned: 4 partitions: b; 8 partitions: a, c"},
		{"missing", map[string]int32{"a": 8}, []string{"a", "b"}, ErrMissingTopic, "topology: topic missing: b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckCopartitioned(c.parts, c.names...)
			if !errors.Is(err, c.want) || (err != nil && err.Error() != c.msg) {
				t.Errorf("got %v, want %v (%q)", err, c.want, c.msg)
			}
		})
	}
}

func TestNamespace(t *testing.T) {
	ns := Namespace("t1.")
	if got := ns.Stream(Activity); got != "t1.shopease.activity" {
		t.Errorf("stream %q", got)
	}
	if got := ns.Table(UpdateCountGroup); got != "t1.shopease-update-count-table" {
		t.Errorf("table %q", got)
	}
}
