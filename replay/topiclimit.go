package replay

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// smallestTopicLimit returns the smallest max.message.bytes of topics (the broker's default for a
// topic without its own), or 0 when it cannot be read. The broker refuses a whole batch that
// holds one record above that limit, so a row too large for its topic would otherwise be lost
// together with the good rows batched with it (issue 11 case 9); with batches no larger than the
// limit, such a row is rejected as too_large before it is sent, like a row above the producer's
// limit, and its neighbours go on.
func smallestTopicLimit(ctx context.Context, brokers []string, topics []string, log *slog.Logger) int {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		log.Warn("cannot read the topics' max.message.bytes; batches keep their size", "err", err)
		return 0
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		log.Warn("cannot read the topics' max.message.bytes; batches keep their size", "err", err)
		return 0
	}
	smallest := 0
	for _, rc := range res {
		if rc.Err != nil {
			log.Warn("cannot read a topic's max.message.bytes; batches keep their size", "topic", rc.Name, "err", rc.Err)
			continue
		}
		for _, c := range rc.Configs {
			if c.Key != "max.message.bytes" || c.Value == nil {
				continue
			}
			if n, err := strconv.Atoi(*c.Value); err == nil && n > 0 && (smallest == 0 || n < smallest) {
				smallest = n
			}
		}
	}
	return smallest
}
