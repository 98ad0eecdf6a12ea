package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
)

const prodKey = "v3:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestOfIsKeyedHMAC(t *testing.T) {
	k, err := ParseKey(prodKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(k, false)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte("17850"))
	want := "p3_" + hex.EncodeToString(m.Sum(nil)[:16])
	if got := p.Of("17850"); got != want {
		t.Errorf("Of = %s, want %s", got, want)
	}
	plain := sha256.Sum256([]byte("17850"))
	if strings.Contains(p.Of("17850"), hex.EncodeToString(plain[:8])) {
		t.Error("pseudonym is a plain hash")
	}
	if p.Of("17850") == Demo().Of("17850") {
		t.Error("different keys give the same pseudonym")
	}
	if p.Of("") != "" {
		t.Error("empty id must stay empty (the gateway rejects it as missing_user)")
	}
	if !p.Is(p.Of("x")) || p.Is("17850") || Demo().Is(p.Of("x")) {
		t.Error("Is does not recognise its own pseudonyms only")
	}
}

func TestOfConcurrentIsStable(t *testing.T) {
	p := Demo()
	want := p.Of("u00042")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				if got := p.Of("u00042"); got != want {
					t.Errorf("got %s, want %s", got, want)
					return
				}
				p.Of("other")
			}
		}()
	}
	wg.Wait()
}

func TestKeys(t *testing.T) {
	cases := []struct {
		spec string
		err  error
	}{
		{prodKey, nil},
		{"v1:" + strings.Repeat("s", 32), nil},
		{"v1:c2hvcnQ=", ErrBadKey},
		{"1:" + strings.Repeat("s", 32), ErrBadKey},
		{"vX:" + strings.Repeat("s", 32), ErrBadKey},
		{"", ErrBadKey},
		{"v10000:" + strings.Repeat("s", 32), ErrBadKey},
	}
	for _, c := range cases {
		_, err := ParseKey(c.spec)
		if !errors.Is(err, c.err) {
			t.Errorf("ParseKey(%.12q…): %v, want %v", c.spec, err, c.err)
		}
	}
	demo, _ := ParseKey(DemoKey)
	if _, err := New(demo, false); !errors.Is(err, ErrBadKey) {
		t.Errorf("production mode accepted the demo key: %v", err)
	}
	if _, err := New(Key{}, false); !errors.Is(err, ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
}

func BenchmarkOf(b *testing.B) {
	p := Demo()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.Of("17850")
	}
}
