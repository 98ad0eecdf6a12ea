package tables_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/shopease/shopease/tables"
)

// A processor keeps its tables in Pebble under its data dir, logs recovery progress, and gets the
// high-water mark for the ETA from a sarama client.
func ExampleNewBuilder() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	brokers := []string{"127.0.0.1:9092"}
	hwm := func(_ context.Context, topic string, partition int32) (int64, error) {
		client, err := sarama.NewClient(brokers, sarama.NewConfig())
		if err != nil {
			return 0, err
		}
		defer client.Close()
		return client.GetOffset(topic, partition, sarama.OffsetNewest)
	}
	builder := tables.NewBuilder("data/processor/counts",
		tables.WithLogger(logger),
		tables.WithHighWaterMark(hwm),
		tables.WithSyncPolicy(tables.SyncOnOffset),
	)
	_ = []goka.ProcessorOption{goka.WithStorageBuilder(builder)}
}
