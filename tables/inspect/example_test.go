package inspect_test

import (
	"context"
	"fmt"

	"github.com/lovoo/goka/codec"

	"github.com/shopease/shopease/tables/inspect"
)

// Reading a stopped processor's table offline: list the tables, then scan one by prefix and decode
// each value with the table's codec.
func Example() {
	ctx := context.Background()
	src, err := inspect.OpenDir("data/processor/counts", inspect.WithPartitionCount(8))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	infos, err := src.Tables(ctx, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range infos {
		fmt.Println(t.Name, len(t.Partitions), "partitions", t.SizeBytes(), "bytes")
	}
	err = src.Scan(ctx, "counts-table", inspect.Query{Prefix: "sku-", Limit: 10}, func(r inspect.Record) error {
		v, err := inspect.Decode(new(codec.Int64), r)
		if err != nil {
			return err
		}
		fmt.Println(r.Partition, r.Key, v)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
}
