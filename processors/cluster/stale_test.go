package cluster

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/testenv"
)

// TestGuardStale: a partition's local state survives reopening while its changelog topic is the
// same, and is removed before opening once the topic was deleted and created again (goka #415).
func TestGuardStale(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		topic := string(testenv.Namespace(t)) + "tbl-table"
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		create := func() {
			t.Helper()
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				_, err := adm.CreateTopic(context.Background(), 1, 1, nil, topic)
				if err == nil {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("create %s: %v", topic, err)
				}
			}
		}
		create()
		dir := t.TempDir()
		part := filepath.Join(dir, topic+".0")
		state := filepath.Join(part, "state")
		c := &Config{Brokers: k.Brokers(), Logger: slog.New(slog.DiscardHandler)}
		b := c.guardStale(dir, func(string, int32) (storage.Storage, error) { return storage.NewMemory(), nil })
		open := func() (stateKept bool, id string) {
			t.Helper()
			if _, err := b(topic, 0); err != nil {
				t.Fatal(err)
			}
			marker, err := os.ReadFile(part + topicIDSuffix)
			if err != nil {
				t.Fatal(err)
			}
			_, err = os.Stat(state)
			return err == nil, strings.TrimSpace(string(marker))
		}
		if err := os.MkdirAll(part, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(state, []byte("built from the first topic"), 0o644); err != nil {
			t.Fatal(err)
		}
		kept1, id1 := open()
		kept2, id2 := open()
		if !kept1 || !kept2 || id1 == "" || id2 != id1 {
			t.Fatalf("same topic: state kept %v then %v, ids %q then %q; want kept twice under one id", kept1, kept2, id1, id2)
		}
		if _, err := adm.DeleteTopics(context.Background(), topic); err != nil {
			t.Fatal(err)
		}
		create()
		kept3, id3 := open()
		if kept3 || id3 == id1 {
			t.Fatalf("recreated topic: state kept %v, id %q (was %q); want the state removed and the new id stored", kept3, id3, id1)
		}
	})
}
