package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/shopease/shopease/lakesql"
)

// shell is the interactive SQL shell of `shopease sql`: statements end with ';' and may span
// lines; dot commands (.views, .schema, .format, .help, .quit) and their psql spellings (\d, \q)
// stand on a line of their own.
type shell struct {
	db      *lakesql.DB
	format  string
	history string // file; "" keeps no history
}

// lineReader reads the shell's input a line at a time, showing prompt where there is a user.
type lineReader interface {
	ReadLine() (string, error)
	SetPrompt(prompt string)
}

const (
	promptFirst = "sql> "
	promptMore  = "...> "
)

// runTerminal runs the shell on a terminal: raw mode with line editing and history (arrow keys).
func (s *shell) runTerminal(ctx context.Context, fd int) error {
	old, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("sql: terminal: %w", err)
	}
	defer term.Restore(fd, old)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{os.Stdin, os.Stdout}, promptFirst)
	if w, h, err := term.GetSize(fd); err == nil {
		_ = t.SetSize(w, h)
	}
	hist, err := loadHistory(s.history)
	if err != nil {
		fmt.Fprintf(t, "history: %s\n", err)
	}
	t.History = hist
	return s.run(ctx, t, t)
}

// run reads and answers statements until end of input or .quit.
func (s *shell) run(ctx context.Context, in lineReader, out io.Writer) error {
	fmt.Fprintf(out, "ShopEase SQL over %s (DuckDB). End statements with ';'. .views lists the views, .help the commands.\n", s.db.LakeDir())
	var stmt strings.Builder
	for {
		if stmt.Len() == 0 {
			in.SetPrompt(promptFirst)
		} else {
			in.SetPrompt(promptMore)
		}
		line, err := in.ReadLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sql: read: %w", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		trimmed := strings.TrimSpace(line)
		if stmt.Len() == 0 && (strings.HasPrefix(trimmed, ".") || strings.HasPrefix(trimmed, `\`)) {
			if quit := s.command(ctx, trimmed, out); quit {
				return nil
			}
			continue
		}
		if trimmed == "" && stmt.Len() == 0 {
			continue
		}
		stmt.WriteString(line)
		stmt.WriteString("\n")
		if !strings.HasSuffix(trimmed, ";") {
			continue
		}
		s.query(ctx, stmt.String(), out)
		stmt.Reset()
	}
}

// query runs one statement and prints its result or its error; the shell goes on either way.
func (s *shell) query(ctx context.Context, q string, out io.Writer) {
	res, err := s.db.Query(ctx, strings.TrimSuffix(strings.TrimSpace(q), ";"))
	if err != nil {
		fmt.Fprintf(out, "error: %s\n", err)
		return
	}
	if err := lakesql.Write(out, s.format, res); err != nil {
		fmt.Fprintf(out, "error: %s\n", err)
		return
	}
	if s.format == "table" {
		fmt.Fprintf(out, "(%d row%s)\n", len(res.Rows), plural(len(res.Rows)))
	}
}

// command runs a dot or backslash command; it returns true to leave the shell.
func (s *shell) command(ctx context.Context, line string, out io.Writer) (quit bool) {
	fields := strings.Fields(line)
	arg := ""
	if len(fields) > 1 {
		arg = strings.TrimSuffix(fields[1], ";")
	}
	switch strings.TrimSuffix(fields[0], ";") {
	case ".quit", ".exit", `\q`:
		return true
	case ".views", ".tables", `\d`, `\dv`:
		if arg != "" {
			s.schema(ctx, arg, out)
		} else {
			s.views(ctx, out)
		}
	case ".schema", ".describe":
		if arg == "" {
			s.views(ctx, out)
		} else {
			s.schema(ctx, arg, out)
		}
	case ".format":
		if !slices.Contains(lakesql.Formats, arg) {
			fmt.Fprintf(out, "format %q: want one of %v\n", arg, lakesql.Formats)
			break
		}
		s.format = arg
	case ".help", `\?`, `\h`:
		fmt.Fprint(out, shellHelp)
	default:
		fmt.Fprintf(out, "unknown command %s (.help lists them)\n", fields[0])
	}
	return false
}

const shellHelp = `.views | \d           list the views and table macros with their columns
.schema VIEW | \d VIEW   the columns of one view and what it holds
.format table|csv|json   how results print
.help                  this text
.quit | \q | Ctrl-D    leave
A statement ends with ';' and may span lines.
`

func (s *shell) views(ctx context.Context, out io.Writer) {
	views, err := s.db.Views(ctx)
	if err != nil {
		fmt.Fprintf(out, "error: %s\n", err)
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tkind\tcolumns")
	for _, v := range views {
		var cols []string
		for _, c := range v.Columns {
			cols = append(cols, c.Name)
		}
		name := v.Name
		if v.Kind == "macro" {
			name += "(" + strings.Join(v.Params, ", ") + ")"
			cols = []string{"(as the view of the same report)"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, v.Kind, strings.Join(cols, ", "))
	}
	_ = tw.Flush()
}

func (s *shell) schema(ctx context.Context, name string, out io.Writer) {
	v, ok, err := s.db.View(ctx, name)
	if err != nil {
		fmt.Fprintf(out, "error: %s\n", err)
		return
	}
	if !ok {
		fmt.Fprintf(out, "no view %q (.views lists them)\n", name)
		return
	}
	if v.Kind == "macro" {
		fmt.Fprintf(out, "%s(%s): table macro\n", v.Name, strings.Join(v.Params, ", "))
	} else {
		fmt.Fprintf(out, "%s: view\n", v.Name)
	}
	if v.Doc != "" {
		fmt.Fprintf(out, "  %s\n", v.Doc)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, c := range v.Columns {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Type)
	}
	_ = tw.Flush()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// scanReader reads lines from a pipe or file: no prompt, no echo.
type scanReader struct{ sc *bufio.Scanner }

func newLineReader(r io.Reader) *scanReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	return &scanReader{sc: sc}
}

func (r *scanReader) ReadLine() (string, error) {
	if r.sc.Scan() {
		return r.sc.Text(), nil
	}
	if err := r.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (r *scanReader) SetPrompt(string) {}

// fileHistory is the terminal's history, kept in a file across sessions (one entry a line,
// newest last; at most historyMax entries are loaded).
type fileHistory struct {
	entries []string // oldest first
	path    string
}

const historyMax = 1000

func loadHistory(path string) (*fileHistory, error) {
	h := &fileHistory{path: path}
	if path == "" {
		return h, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			h.entries = append(h.entries, l)
		}
	}
	if n := len(h.entries); n > historyMax {
		h.entries = h.entries[n-historyMax:]
	}
	return h, nil
}

// Add records a line in memory and appends it to the file (a multi-line statement is kept as
// its lines). A history the file system refuses is kept in memory only.
func (h *fileHistory) Add(entry string) {
	if entry == "" || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == entry) {
		return
	}
	h.entries = append(h.entries, entry)
	if h.path == "" {
		return
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintln(f, entry)
	f.Close()
}

func (h *fileHistory) Len() int { return len(h.entries) }

// At returns the idx-th newest entry (0: the newest), as term.History requires.
func (h *fileHistory) At(idx int) string { return h.entries[len(h.entries)-1-idx] }
