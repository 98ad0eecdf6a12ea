package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
)

// ErrUsage marks an error in how a command was called; Main prints the command's usage and
// exits with status 2.
var ErrUsage = errors.New("usage")

// command is one node of the command tree. A node with subs only dispatches.
type command struct {
	name    string
	summary string // one line for the parent's listing
	args    string // synopsis of positional arguments, e.g. "FILE|DIR..."
	help    string // what it does and an example a new user can paste
	flags   func(fs *flag.FlagSet, e *env)
	run     func(ctx context.Context, e *env, args []string) error
	subs    []*command
	parent  *command
}

func (c *command) path() string {
	if c.parent == nil {
		return c.name
	}
	return c.parent.path() + " " + c.name
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// env is what a running command gets: its parsed flags' destinations, output streams, logger.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	common         commonFlags
	fs             *flag.FlagSet
	cmd            *command
}

func (c *command) newFlagSet(e *env) *flag.FlagSet {
	fs := flag.NewFlagSet(c.path(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.common.config, "config", "", "config file (key = value lines, [command] sections); also SHOPEASE_CONFIG")
	fs.StringVar(&e.common.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&e.common.logFormat, "log-format", "text", "log format: text or json")
	if c.flags != nil {
		c.flags(fs, e)
	}
	return fs
}

func (c *command) printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s", c.path())
	if len(c.subs) > 0 {
		fmt.Fprint(w, " COMMAND")
	}
	fmt.Fprint(w, " [flags]")
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintln(w)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	} else if c.summary != "" {
		fmt.Fprintf(w, "\n%s\n", c.summary)
	}
	if len(c.subs) > 0 {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, s := range c.subs {
			fmt.Fprintf(w, "  %-10s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags and examples.\n", c.path())
		return
	}
	fmt.Fprintf(w, "\nFlags (each also SHOPEASE_<NAME>, e.g. --data-dir → SHOPEASE_DATA_DIR, or a config file key):\n")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		f := fs.Lookup(n)
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%-18s %s%s\n", f.Name, f.Usage, def)
	}
}

// Main runs the shopease command line with args (without the program name) and returns the
// process exit status: 0 success, 1 failure, 2 usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := commands()
	c := root
	for len(args) > 0 && len(c.subs) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			c.printHelp(stdout, nil)
			return 0
		}
		s := c.sub(args[0])
		if s == nil {
			fmt.Fprintf(stderr, "%s: unknown command %q\n\n", c.path(), args[0])
			c.printHelp(stderr, nil)
			return 2
		}
		c, args = s, args[1:]
	}
	if len(c.subs) > 0 {
		c.printHelp(stderr, nil)
		return 2
	}
	e := &env{stdout: stdout, stderr: stderr, cmd: c}
	fs := c.newFlagSet(e)
	e.fs = fs
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printHelp(stdout, fs)
			return 0
		}
		fmt.Fprintf(stderr, "%s: %s\n\n", c.path(), err)
		c.printHelp(stderr, fs)
		return 2
	}
	if err := applyLayers(root, c, fs, e.common.config, os.LookupEnv); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", c.path(), err)
		return 2
	}
	log, err := newLogger(stderr, e.common.logLevel, e.common.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", c.path(), err)
		return 2
	}
	e.log = log
	if err := c.run(ctx, e, positional); err != nil {
		if errors.Is(err, ErrUsage) {
			fmt.Fprintf(stderr, "%s: %s\n\n", c.path(), err)
			c.printHelp(stderr, fs)
			return 2
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return 0 // stopped by SIGINT/SIGTERM after a clean shutdown
		}
		fmt.Fprintf(stderr, "%s: error: %s\n", c.path(), err)
		return 1
	}
	return 0
}

// parseInterspersed parses flags that may come before, between or after positional arguments
// (`inspect get TABLE KEY --data-dir d`), as users expect; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func usagef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
