package compaction

import (
	"context"
	"fmt"

	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kgo"
)

// replayTail applies the changelog records of topic/p in [from, end), read with cl (from
// changelogClient), to st the way goka's recovery does — Open, then per record Set (or Delete for
// a nil value, goka's DefaultUpdate) and SetOffset — and returns how many it applied. goka's own Open and MarkRecovered later find the
// store in recovery mode already and end it; a failure part-way leaves the offset of the last
// record applied, and goka's recovery goes on from there.
func replayTail(cl *kgo.Client, st storage.Storage, topic string, p int32, from, end int64) (int64, error) {
	if err := st.Open(); err != nil {
		return 0, fmt.Errorf("open storage: %w", err)
	}
	// No deadline: a long tail is still faster read here than by goka, and readChangelog gives up
	// after 30 s without a record (the broker gone), leaving the rest to goka's recovery.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var applyErr error
	apply := func(off int64, key string, value []byte) {
		if applyErr != nil {
			return
		}
		if value == nil {
			applyErr = st.Delete(key)
		} else {
			applyErr = st.Set(key, value)
		}
		if applyErr == nil {
			applyErr = st.SetOffset(off)
		}
		if applyErr != nil {
			cancel() // stops the read
		}
	}
	n, err := readChangelog(ctx, Config{}, cl, topic, p, from, end, apply)
	if applyErr != nil {
		return n, fmt.Errorf("apply record: %w", applyErr)
	}
	return n, err
}
