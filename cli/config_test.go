package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// layered builds the flag set of `shopease topics create`, parses args and applies env and file.
func layered(t *testing.T, args []string, envs map[string]string, file string) (*flag.FlagSet, error) {
	t.Helper()
	root := commands()
	c := root.sub("topics").sub("create")
	e := &env{}
	fs := c.newFlagSet(e)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	path := ""
	if file != "" {
		path = filepath.Join(t.TempDir(), "shopease.conf")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(k string) (string, bool) { v, ok := envs[k]; return v, ok }
	return fs, applyLayers(root, c, fs, path, lookup)
}

func TestConfigPrecedence(t *testing.T) {
	file := `# shared
brokers = file:1
namespace = "file."
partitions = 3
[replay]
partitions = 99
[topics create]
replication = 2
`
	cases := []struct {
		name string
		args []string
		envs map[string]string
		want map[string]string
	}{
		{"file and defaults", nil, nil,
			map[string]string{"brokers": "file:1", "namespace": "file.", "partitions": "3", "replication": "2", "data-dir": "data"}},
		{"env over file", nil, map[string]string{"SHOPEASE_BROKERS": "env:1", "SHOPEASE_DATA_DIR": "/env"},
			map[string]string{"brokers": "env:1", "namespace": "file.", "data-dir": "/env"}},
		{"flag over env", []string{"--brokers", "flag:1", "--partitions", "5"}, map[string]string{"SHOPEASE_BROKERS": "env:1", "SHOPEASE_PARTITIONS": "4"},
			map[string]string{"brokers": "flag:1", "partitions": "5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, err := layered(t, c.args, c.envs, file)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.want {
				if got := fs.Lookup(k).Value.String(); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := layered(t, nil, nil, "brokers = a:1\nbrokres = typo:1\n")
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `:2: unknown key "brokres"`) {
		t.Errorf("typo key: %v", err)
	}
	_, err = layered(t, nil, nil, "partitions = many\n")
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `partitions = "many"`) {
		t.Errorf("bad value: %v", err)
	}
	_, err = layered(t, nil, map[string]string{"SHOPEASE_PARTITIONS": "x"}, "")
	if err == nil || !strings.Contains(err.Error(), `SHOPEASE_PARTITIONS="x"`) {
		t.Errorf("bad env: %v", err)
	}
	_, err = layered(t, nil, nil, "just words\n")
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), ":1: want key = value") {
		t.Errorf("bad line: %v", err)
	}
}

func TestMainExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string // expected in stdout+stderr
	}{
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"version"}, 0, "shopease dev"},
		{[]string{"topics", "create", "--help"}, 0, "Example:"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"topics"}, 2, "Commands:"},
		{[]string{"run", "--partitions", "0"}, 2, "--partitions must be ≥ 1"},
		{[]string{"run", "extra"}, 2, "run takes no arguments"},
		{[]string{"run", "--redis-flush", "0s"}, 2, "--redis-flush must be positive, got 0s"},
		{[]string{"run", "--fetch-bytes", "100"}, 2, "--fetch-bytes must be between 1 KiB and 1 GiB, got 100"},
		{[]string{"run", "--processors", "gateways,realtme"}, 2, `unknown processor "realtme" (known: transactions, activity`},
		{[]string{"version", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"run"}, 1, "pseudonym: no key configured"},
		{[]string{"run", "--pseudonym-key", "v0:shopease-demo-key-public-never-use-in-production"}, 1, "public demo key"},
		{[]string{"run", "--demo-key", "--pseudonym-key", "v1:x"}, 2, "exclude each other"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		code := Main(context.Background(), c.args, &out, &out)
		if code != c.code || !strings.Contains(out.String(), c.out) {
			t.Errorf("%v: exit %d, want %d; output:\n%s", c.args, code, c.code, out.String())
		}
	}
}
