package cli

import "github.com/lovoo/goka/storage"

// defaultStorage is the local table storage of every processor.
func defaultStorage(_ *env) func(dir string) storage.Builder {
	return nil
}
