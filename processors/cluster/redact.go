package cluster

import "regexp"

// goka formats record keys into its errors and log lines ("could not commit message with key
// 'K'", "error processing message for key K from topic/0"). On raw topics a key can be a raw user
// id, which must never reach a log line, so every goka text passes through RedactKeys first.
var keyPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`key '[^']*'`), "key '<redacted>'"},
	{regexp.MustCompile(`key \([^)]*\)`), "key (<redacted>)"},
	{regexp.MustCompile(`key "[^"]*"`), `key "<redacted>"`},
	{regexp.MustCompile(`key [^\s:,)'"(]+`), "key <redacted>"},
}

// RedactKeys replaces the record keys goka writes into its messages with <redacted>.
func RedactKeys(s string) string {
	for _, p := range keyPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// RedactError wraps err so that its text has no record keys; errors.Is and errors.As still see
// through it.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	return redacted{err}
}

type redacted struct{ err error }

func (r redacted) Error() string { return RedactKeys(r.err.Error()) }
func (r redacted) Unwrap() error { return r.err }
