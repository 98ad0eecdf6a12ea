package compaction

import (
	"errors"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		err  error
	}{
		{"no brokers", Config{LakeDir: "l", Tables: []string{"t"}}, ErrBadConfig},
		{"no lake dir", Config{Brokers: []string{"b"}, Tables: []string{"t"}}, ErrBadConfig},
		{"no tables", Config{Brokers: []string{"b"}, LakeDir: "l"}, ErrBadConfig},
		{"negative keep", Config{Brokers: []string{"b"}, LakeDir: "l", Tables: []string{"t"}, Keep: -1}, ErrBadConfig},
		{"defaults", Config{Brokers: []string{"b"}, LakeDir: "l", Tables: []string{"t"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cfg.Validate(); !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("Validate() = %v, want %v", err, c.err)
			}
		})
	}
	c := Config{Brokers: []string{"b"}, LakeDir: "l", Tables: []string{"t"}}
	_ = c.Validate()
	if c.Keep != 3 || c.RowGroupRows != 65_536 || c.Logger == nil {
		t.Errorf("defaults %+v", c)
	}
}

func TestPruneKeepsNewest(t *testing.T) {
	lakeDir := t.TempDir()
	for _, name := range []string{"20240101T000000.000Z", "20240102T000000.000Z", "20240103T000000.000Z"} {
		writeTestSnapshot(t, lakeDir, "t-table", name, map[string][]byte{"k": []byte(name)}, 1)
	}
	if err := prune(lakeDir, "t-table", 2); err != nil {
		t.Fatal(err)
	}
	snaps, err := Snapshots(lakeDir, "t-table")
	if err != nil || len(snaps) != 2 || snaps[0].Manifest == nil ||
		snaps[0].Dir[len(snaps[0].Dir)-20:] != "20240102T000000.000Z" {
		t.Fatalf("after prune: %+v %v", snaps, err)
	}
}
