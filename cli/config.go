package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// ErrConfig is returned for a config file that cannot be read or names an unknown key.
var ErrConfig = errors.New("config")

// commonFlags are the flags every command has.
type commonFlags struct {
	config    string
	logLevel  string
	logFormat string
}

// envName maps a flag name to its environment variable: data-dir → SHOPEASE_DATA_DIR.
func envName(flagName string) string {
	return "SHOPEASE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyLayers fills every flag of fs that was not given on the command line, first from its
// SHOPEASE_* environment variable, then from the config file. The config file holds `key = value`
// lines; keys before any section apply to every command that has such a flag, keys under
// `[replay]` or `[topics create]` only to that command. A key that is no flag of any command is an
// error, so a typo never passes silently.
func applyLayers(root, c *command, fs *flag.FlagSet, configPath string, lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		if v, ok := lookup(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
				return
			}
			set[f.Name] = true
		}
	})
	if err != nil {
		return err
	}

	if configPath == "" {
		configPath, _ = lookup("SHOPEASE_CONFIG")
	}
	if configPath == "" {
		return nil
	}
	entries, err := readConfig(configPath)
	if err != nil {
		return err
	}
	// A fresh tree: building flag sets resets their destinations to defaults.
	known := allFlagNames(commands())
	self := strings.TrimPrefix(c.path(), root.name+" ")
	for _, en := range entries {
		if !known[en.key] {
			return fmt.Errorf("%w: %s:%d: unknown key %q", ErrConfig, configPath, en.line, en.key)
		}
		if en.section != "" && en.section != self {
			continue
		}
		if set[en.key] || fs.Lookup(en.key) == nil {
			continue
		}
		if err := fs.Set(en.key, en.value); err != nil {
			return fmt.Errorf("%w: %s:%d: %s = %q: %w", ErrConfig, configPath, en.line, en.key, en.value, err)
		}
	}
	return nil
}

type configEntry struct {
	section, key, value string
	line                int
}

func readConfig(path string) ([]configEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer f.Close()
	var out []configEntry
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Join(strings.Fields(line[1:len(line)-1]), " ")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%w: %s:%d: want key = value", ErrConfig, path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		out = append(out, configEntry{section: section, key: strings.TrimSpace(k), value: v, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	return out, nil
}

func allFlagNames(root *command) map[string]bool {
	names := map[string]bool{}
	var walk func(c *command)
	walk = func(c *command) {
		if len(c.subs) == 0 {
			fs := c.newFlagSet(&env{})
			fs.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
		}
		for _, s := range c.subs {
			walk(s)
		}
	}
	walk(root)
	return names
}
