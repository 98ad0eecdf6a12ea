package tables_test

import (
	"testing"

	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb"

	"github.com/shopease/shopease/tables"
	"github.com/shopease/shopease/tables/storagetest"
)

func TestConformanceMemory(t *testing.T) {
	storagetest.Run(t, storagetest.Config{
		Open:   func(*testing.T, string) storage.Storage { return storage.NewMemory() },
		Quirks: storagetest.MemoryQuirks,
	})
}

func TestConformanceLevelDB(t *testing.T) {
	storagetest.Run(t, storagetest.Config{
		Open: func(t *testing.T, dir string) storage.Storage {
			db, err := leveldb.OpenFile(dir, nil)
			if err != nil {
				t.Fatalf("open leveldb: %v", err)
			}
			st, err := storage.New(db)
			if err != nil {
				t.Fatalf("goka leveldb storage: %v", err)
			}
			return st
		},
		Persistent: true,
		Quirks:     storagetest.LevelDBQuirks,
	})
}

func TestConformancePebble(t *testing.T) {
	storagetest.Run(t, storagetest.Config{
		Open: func(t *testing.T, dir string) storage.Storage {
			st, err := tables.Open(dir, tables.WithCacheSize(1<<20), tables.WithRecoveryBatchSize(4<<10))
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		Persistent: true,
	})
}
