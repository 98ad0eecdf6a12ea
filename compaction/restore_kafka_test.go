package compaction_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/shopease/shopease/compaction"
	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/testenv"
)

const parts = 4

// produce writes n changelog records to table: key i%keys gets value "v<seq>-<i>", every seventh
// record deletes its key (a nil value, as goka's Delete writes), and every eleventh sets an empty
// value (which goka stores: only nil deletes).
func produce(t *testing.T, cl *kgo.Client, table string, seq, n, keys int) {
	t.Helper()
	for i := range n {
		key := fmt.Sprintf("key-%05d", (i*7919)%keys)
		var val []byte
		switch {
		case i%11 == 5:
			val = []byte{}
		case i%7 != 3:
			val = fmt.Appendf(nil, "v%d-%d", seq, i)
		}
		// A key stays in one partition, as goka's hasher keeps it.
		r := &kgo.Record{Topic: table, Partition: int32(fnv(key) % parts), Key: []byte(key), Value: val}
		cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// recoverView runs a goka view on table with storage b until it is recovered, then stops it.
func recoverView(t *testing.T, cfg cluster.Config, table string, b storage.Builder) {
	t.Helper()
	v, err := goka.NewView(cfg.Brokers, goka.Table(table), new(codec.Bytes),
		cfg.ViewOptions(goka.Table(table), goka.WithViewStorageBuilder(b))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	select {
	case <-v.WaitRunning():
	case err := <-done:
		cancel()
		t.Fatalf("view stopped before it recovered: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatalf("view not recovered after 2 min (%v)", <-done)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// contents reads every partition's keys, values and stored offset from a data dir.
func contents(t *testing.T, dir, table string) (map[string][]byte, map[int32]int64) {
	t.Helper()
	kv, offs := map[string][]byte{}, map[int32]int64{}
	for p := range int32(parts) {
		st, err := tables.Open(tables.PartitionDir(dir, table, p), tables.WithReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		it, err := st.Iterator()
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			v, err := it.Value()
			if err != nil {
				t.Fatal(err)
			}
			kv[string(it.Key())] = bytes.Clone(v)
		}
		it.Release()
		if offs[p], err = st.GetOffset(-1); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	return kv, offs
}

// TestRestoreEqualsChangelogRecovery: a table restored from a snapshot and then recovered from the
// changelog tail equals, key by key and byte by byte, with the same stored offsets, the table goka
// recovers from the whole changelog — whether restored explicitly or by RestoringBuilder when a
// view opens a partition without local state.
func TestRestoreEqualsChangelogRecovery(t *testing.T) {
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg := cluster.Config{Brokers: k.Brokers(), Namespace: testenv.Namespace(t), DataDir: t.TempDir(), Logger: logger}
		table := string(cfg.Namespace.Table("restore-test"))
		cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), parts, 1,
			map[string]*string{"cleanup.policy": ptr("compact")}, table); err != nil {
			t.Fatal(err)
		}
		produce(t, cl, table, 1, 3000, 800)
		lakeDir := t.TempDir()
		ccfg := compaction.Config{Brokers: cfg.Brokers, LakeDir: lakeDir, Tables: []string{table, table + "-missing"}, Keep: 1, Logger: logger}
		snaps, err := compaction.Compact(context.Background(), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) != 1 {
			t.Fatalf("%d snapshots, want 1 (the missing table skipped)", len(snaps))
		}
		var rows, offsets int64
		for _, pm := range snaps[0].Manifest.Partitions {
			rows += pm.Rows
			offsets += pm.Offset + 1
		}
		if offsets != 3000 {
			t.Fatalf("snapshot offsets add to %d records, want 3000", offsets)
		}
		produce(t, cl, table, 2, 500, 1200) // the tail: updates, deletes and new keys

		full := filepath.Join(t.TempDir(), "full")
		recoverView(t, cfg, table, tables.NewBuilder(full))
		want, wantOffs := contents(t, full, table)
		if len(want) == 0 {
			t.Fatal("changelog recovery produced an empty table")
		}

		explicit := filepath.Join(t.TempDir(), "explicit")
		res, err := compaction.Restore(snaps[0], explicit, logger)
		if err != nil {
			t.Fatal(err)
		}
		var restored int64
		for _, r := range res {
			restored += r.Rows
		}
		if restored != rows {
			t.Fatalf("restored %d rows, snapshot has %d", restored, rows)
		}
		recoverView(t, cfg, table, tables.NewBuilder(explicit))

		// RestoringBuilder, leaving the tail to goka, and replaying it itself (WithTail).
		auto, autoTail := filepath.Join(t.TempDir(), "auto"), filepath.Join(t.TempDir(), "auto-tail")
		for _, c := range []struct {
			dir      string
			opt      compaction.BuilderOption
			wantTail int
		}{
			{auto, compaction.WithHighWaterMark(compaction.KafkaHighWaterMark(cfg.Brokers)), 0},
			{autoTail, compaction.WithTail(cfg.Brokers), 500},
		} {
			var logBuf bytes.Buffer
			autoLog := slog.New(slog.NewTextHandler(&logBuf, nil))
			recoverView(t, cfg, table, compaction.RestoringBuilder(lakeDir, c.dir, tables.NewBuilder(c.dir),
				compaction.WithLogger(autoLog), c.opt))
			if n := bytes.Count(logBuf.Bytes(), []byte("compaction: restored")); n != parts {
				t.Errorf("RestoringBuilder restored %d partitions, want %d; log:\n%s", n, parts, logBuf.String())
			}
			tail := 0
			for _, m := range tailRecords.FindAllSubmatch(logBuf.Bytes(), -1) {
				n, _ := strconv.Atoi(string(m[1]))
				tail += n
			}
			if tail != c.wantTail {
				t.Errorf("RestoringBuilder replayed %d tail records itself, want %d; log:\n%s", tail, c.wantTail, logBuf.String())
			}
		}

		for name, dir := range map[string]string{"explicit": explicit, "auto": auto, "auto with tail": autoTail} {
			got, gotOffs := contents(t, dir, table)
			if !maps.EqualFunc(got, want, bytes.Equal) || !maps.Equal(gotOffs, wantOffs) {
				t.Errorf("%s restore: %d keys, offsets %v; changelog recovery: %d keys, offsets %v",
					name, len(got), gotOffs, len(want), wantOffs)
			}
		}
		t.Logf("%d keys after recovery, %d in the snapshot, offsets %v", len(want), rows, wantOffs)

		// A snapshot built on the previous one plus the tail equals the recovered table too.
		snaps, err = compaction.Compact(context.Background(), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := compaction.Snapshots(lakeDir, table); len(n) != 1 {
			t.Errorf("%d snapshots kept, want 1", len(n))
		}
		incr := filepath.Join(t.TempDir(), "incr")
		if _, err := compaction.Restore(snaps[0], incr, logger); err != nil {
			t.Fatal(err)
		}
		if got, gotOffs := contents(t, incr, table); !maps.EqualFunc(got, want, bytes.Equal) || !maps.Equal(gotOffs, wantOffs) {
			t.Errorf("incremental snapshot: %d keys, offsets %v; want %d keys, %v", len(got), gotOffs, len(want), wantOffs)
		}
		_ = os.RemoveAll(lakeDir)
	})
}

func ptr(s string) *string { return &s }

var tailRecords = regexp.MustCompile(`tail_records=(\d+)`)
