package replay

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/shopease/shopease/event"
)

// rejectLine is one line of the local rejects file (NDJSON). The original row is kept as text
// when it is valid UTF-8, else in base64.
type rejectLine struct {
	File     string       `json:"file"`
	Line     int64        `json:"line"`
	Row      int64        `json:"row"`
	Dataset  string       `json:"dataset"`
	Reason   event.Reason `json:"reason"`
	Detail   string       `json:"detail,omitempty"`
	Original string       `json:"original,omitempty"`
	Base64   []byte       `json:"original_base64,omitempty"`
}

// rejectsFile appends reject lines; it is written when a dead letter is acknowledged, so that it
// lists what the dead-letter topic holds.
type rejectsFile struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	err error
}

func openRejects(path string) (*rejectsFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("replay: rejects file: %w", err)
	}
	return &rejectsFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (r *rejectsFile) write(l rejectLine, original []byte) {
	if r == nil {
		return
	}
	if utf8.Valid(original) {
		l.Original = string(original)
	} else {
		l.Base64 = original
	}
	b, err := json.Marshal(l)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		b = append(b, '\n')
		_, err = r.w.Write(b)
	}
	if err != nil && r.err == nil {
		r.err = err
	}
}

func (r *rejectsFile) close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if r.err != nil {
		err = r.err
	}
	if err != nil {
		return fmt.Errorf("replay: rejects file %s: %w", r.f.Name(), err)
	}
	return nil
}
