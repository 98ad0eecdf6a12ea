package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// ErrManifest is returned by Run when the manifest cannot be read, written or locked.
var ErrManifest = errors.New("replay: manifest")

// Entry states.
const (
	stateRunning = "running" // started; may have been interrupted: the next run resumes it
	stateDone    = "done"    // every row acknowledged
)

// manifestEntry is what the manifest knows about one file identity (content + mapping + dataset).
type manifestEntry struct {
	ID      string   `json:"id"`     // identity: the shopease-src header of its records
	SHA256  string   `json:"sha256"` // of the file as stored
	Mapping string   `json:"mapping"`
	Dataset string   `json:"dataset"`
	Target  string   `json:"target"` // Kafka cluster id / namespace
	Names   []string `json:"names"`  // paths it was replayed under
	State   string   `json:"state"`
	// StartOffsets are the end offsets of the target topics when the replay that wrote this
	// file's records started: every record of it lies at or after them.
	StartOffsets map[string]map[int32]int64 `json:"start_offsets"`
	Started      time.Time                  `json:"started"`
	Finished     time.Time                  `json:"finished,omitzero"`
	Rows         int64                      `json:"rows"`  // rows in the file (when done)
	Acked        int64                      `json:"acked"` // records acknowledged so far (data and dead letters)
	Sent         int64                      `json:"sent"`
	Rejected     int64                      `json:"rejected"`
	Runs         int                        `json:"runs"` // replays started, forced or resumed
}

// manifest is the replay manifest file: JSON, rewritten atomically (temp file, fsync, rename,
// fsync of the directory), so that a crash leaves the old or the new version, never a torn one.
type manifest struct {
	path    string
	lock    *os.File
	mu      sync.Mutex
	Version int                       `json:"version"`
	Entries map[string]*manifestEntry `json:"entries"`
}

// openManifest locks the manifest (an exclusive flock on PATH.lock, held until close, so two
// replays never work on the same manifest at once: the second waits) and reads it; a missing
// file is an empty manifest.
func openManifest(ctx context.Context, path string, logger *slog.Logger) (*manifest, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrManifest, err)
		}
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	if err := flock(ctx, lock, logger); err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: lock %s: %w", ErrManifest, lock.Name(), err)
	}
	m := &manifest{path: path, lock: lock, Version: 1, Entries: map[string]*manifestEntry{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return m, nil
	case err != nil:
		m.close()
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	if err := json.Unmarshal(b, m); err != nil {
		m.close()
		return nil, fmt.Errorf("%w: %s is not a replay manifest: %w", ErrManifest, path, err)
	}
	if m.Entries == nil {
		m.Entries = map[string]*manifestEntry{}
	}
	return m, nil
}

// flock takes an exclusive lock on f, waiting (and saying so once) while another replay holds it.
func flock(ctx context.Context, f *os.File, logger *slog.Logger) error {
	for said := false; ; said = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if !said {
			logger.Info("another replay holds the manifest; waiting for it", "lock", f.Name())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (m *manifest) close() {
	if m.lock != nil {
		syscall.Flock(int(m.lock.Fd()), syscall.LOCK_UN)
		m.lock.Close()
		m.lock = nil
	}
}

// entry returns the entry for id, or nil.
func (m *manifest) entry(id string) *manifestEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Entries[id]
}

// update runs fn on the entries under the manifest's lock.
func (m *manifest) update(fn func(entries map[string]*manifestEntry)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.Entries)
}

// save writes the manifest atomically.
func (m *manifest) save() error {
	m.mu.Lock()
	b, err := json.MarshalIndent(m, "", "  ")
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: encode: %w", ErrManifest, err)
	}
	if err := writeFileAtomic(m.path, append(b, '\n')); err != nil {
		return fmt.Errorf("%w: %w", ErrManifest, err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// hashFile returns the hex SHA-256 of the file as stored.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrUnreadable, path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// identity is the id of replaying content with a mapping into a dataset of a target (Kafka
// cluster id and namespace): the same bytes read another way are other records, and the same
// records sent to another cluster or namespace are another replay. The mapping's JSON is part of
// it, so an edited mapping file replays again. 32 hex digits (128 bits) keep the per-record header
// short.
func identity(contentSHA string, m *Mapping, ds dataset, target string) string {
	mj, _ := json.Marshal(m)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%t\x00%s", contentSHA, mj, ds, m.direct, target)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// sortedNames returns names with name added, sorted and without duplicates.
func sortedNames(names []string, name string) []string {
	for _, n := range names {
		if n == name {
			return names
		}
	}
	names = append(names, name)
	sort.Strings(names)
	return names
}
