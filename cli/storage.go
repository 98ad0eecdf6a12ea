package cli

import (
	"github.com/lovoo/goka/storage"

	"github.com/shopease/shopease/processors/cluster"
	"github.com/shopease/shopease/tables"
)

// pebbleStorage makes Pebble the local table storage of every processor and view: one DB per
// table partition under the group's folder, recovery progress logged with an ETA.
func pebbleStorage(e *env, cfg *cluster.Config) func(dir string) storage.Builder {
	return func(dir string) storage.Builder {
		return tables.NewBuilder(dir, tables.WithLogger(e.log), tables.WithHighWaterMark(cfg.HighWaterMark))
	}
}
