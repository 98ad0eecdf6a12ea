package topology

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNotCopartitioned is returned by CheckCopartitioned when topics that are joined have different
// partition counts.
var ErrNotCopartitioned = errors.New("topology: topics are not co-partitioned")

// ErrMissingTopic is returned by CheckCopartitioned when a topic does not exist.
var ErrMissingTopic = errors.New("topology: topic missing")

// CheckCopartitioned checks that every topic in names exists in partitions (topic → count) and that
// all have the same count. The error lists every count found, so the operator sees what to fix.
func CheckCopartitioned(partitions map[string]int32, names ...string) error {
	var missing []string
	counts := map[int32][]string{}
	for _, n := range names {
		p, ok := partitions[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		counts[p] = append(counts[p], n)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingTopic, strings.Join(missing, ", "))
	}
	if len(counts) <= 1 {
		return nil
	}
	var parts []string
	for p, ts := range counts {
		sort.Strings(ts)
		parts = append(parts, fmt.Sprintf("%d partitions: %s", p, strings.Join(ts, ", ")))
	}
	sort.Strings(parts)
	return fmt.Errorf("%w: %s", ErrNotCopartitioned, strings.Join(parts, "; "))
}
