package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// Errors returned by Parse and New.
var (
	// ErrNoKey is returned when no key is configured and demo keys are not allowed.
	ErrNoKey = errors.New("pseudonym: no key configured (set SHOPEASE_PSEUDONYM_KEY=v<N>:<secret>; the demo uses --demo-key)")
	// ErrBadKey is returned for a key spec that does not parse or is too short.
	ErrBadKey = errors.New("pseudonym: bad key")
)

// MinSecretBytes is the shortest secret accepted: HMAC-SHA256 wants at least 32 bytes of key.
const MinSecretBytes = 32

// MaxVersion is the highest key version; pseudonyms keep a fixed maximum length.
const MaxVersion = 9999

// DemoKey is the fixed, public key of `shopease demo` and of tests. Pseudonyms made with it protect
// nothing (anyone can recompute them), which is why production mode refuses it.
const DemoKey = "v0:shopease-demo-key-public-never-use-in-production"

// Key is one versioned secret.
type Key struct {
	Version int
	Secret  []byte
}

// ParseKey parses "v<N>:<secret>" where secret is base64 (std or URL, padded or not), hex, or
// literal text of at least MinSecretBytes bytes.
func ParseKey(spec string) (Key, error) {
	v, secret, ok := strings.Cut(strings.TrimSpace(spec), ":")
	if !ok || !strings.HasPrefix(v, "v") {
		return Key{}, fmt.Errorf("%w: want v<N>:<secret>", ErrBadKey)
	}
	n, err := strconv.Atoi(v[1:])
	if err != nil || n < 0 || n > MaxVersion {
		return Key{}, fmt.Errorf("%w: version %q is not v<N> with N in 0..%d", ErrBadKey, v, MaxVersion)
	}
	raw := []byte(secret)
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if b, err := dec(secret); err == nil && len(b) >= MinSecretBytes {
			raw = b
			break
		}
	}
	if len(raw) < MinSecretBytes {
		return Key{}, fmt.Errorf("%w: secret of version %d has %d bytes, want ≥ %d", ErrBadKey, n, len(raw), MinSecretBytes)
	}
	return Key{Version: n, Secret: raw}, nil
}

// Pseudonymizer maps raw user ids to pseudonyms with one key. It is safe for concurrent use.
type Pseudonymizer struct {
	key    Key
	prefix string
	pool   sync.Pool
}

// New returns a Pseudonymizer for key. With allowDemo false, the demo key (version 0) is refused:
// production mode must never run on a public key.
func New(key Key, allowDemo bool) (*Pseudonymizer, error) {
	if len(key.Secret) < MinSecretBytes {
		return nil, ErrNoKey
	}
	if key.Version < 0 || key.Version > MaxVersion {
		return nil, fmt.Errorf("%w: version %d outside 0..%d", ErrBadKey, key.Version, MaxVersion)
	}
	if key.Version == 0 && !allowDemo {
		return nil, fmt.Errorf("%w: version 0 is the public demo key; production needs v1 or later", ErrBadKey)
	}
	p := &Pseudonymizer{key: key, prefix: "p" + strconv.Itoa(key.Version) + "_"}
	p.pool.New = func() any { return hmac.New(sha256.New, key.Secret) }
	return p, nil
}

// Demo returns the Pseudonymizer of the public demo key.
func Demo() *Pseudonymizer {
	k, err := ParseKey(DemoKey)
	if err != nil {
		panic(err) // a constant; covered by tests
	}
	p, err := New(k, true)
	if err != nil {
		panic(err)
	}
	return p
}

// Version is the key version that every pseudonym of p carries.
func (p *Pseudonymizer) Version() int { return p.key.Version }

// Of returns the pseudonym of a raw user id: "p<version>_" and the first 16 bytes of
// HMAC-SHA256(secret, id) in hex (128 bits: collisions are out of reach for any user count).
// The empty id has no pseudonym and returns "".
func (p *Pseudonymizer) Of(raw string) string {
	if raw == "" {
		return ""
	}
	h := p.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(raw))
	var sum [sha256.Size]byte
	out := h.Sum(sum[:0])
	p.pool.Put(h)
	var b [2 + 4 + 32]byte
	n := copy(b[:], p.prefix)
	hex.Encode(b[n:n+32], out[:16])
	return string(b[:n+32])
}

// Is reports whether s has the form of a pseudonym of p's key version; gateways use it to refuse
// records on clean topics whose user id was never pseudonymized.
func (p *Pseudonymizer) Is(s string) bool {
	if !strings.HasPrefix(s, p.prefix) || len(s) != len(p.prefix)+32 {
		return false
	}
	_, err := hex.DecodeString(s[len(p.prefix):])
	return err == nil
}
