package codecs_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

// The benchmarks compare this package (impl=codecs; impl=reuse for the Append and DecodeInto
// forms that reuse a buffer or a struct) with encoding/json (impl=json), the baseline, on each
// type's documented record. Compare with:
//
//	go test -run='^$' -bench=. -count=3 ./codecs > new.txt && benchstat -col /impl new.txt
//
// cpu-ns/op is the process CPU time per operation: on a shared machine it is the figure to
// compare, since sec/op also counts the time other processes held the CPU.

// reportCPU reports the process CPU time per operation since start (GC work included).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func benchRecord[T any](i int) *T { return recordTypes[i].want.(*T) }

func benchEncode[T any](b *testing.B, v *T, encode func(any) ([]byte, error), appendTo func([]byte, *T) ([]byte, error)) {
	data, err := encode(v)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=codecs", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			if _, err := encode(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=reuse", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			if buf, err = appendTo(buf[:0], v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchDecode[T any](b *testing.B, v *T, encode func(any) ([]byte, error), decode func([]byte) (any, error), into func([]byte, *T) error) {
	data, err := encode(v)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=codecs", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			if _, err := decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=reuse", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		var out T
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			if err := into(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		defer reportCPU(b, cpuTime())
		for b.Loop() {
			out := new(T)
			if err := json.Unmarshal(data, out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkActivityEncode(b *testing.B) {
	benchEncode(b, benchRecord[event.Activity](0), codecs.Activity{}.Encode, codecs.AppendActivity)
}

func BenchmarkActivityDecode(b *testing.B) {
	benchDecode(b, benchRecord[event.Activity](0), codecs.Activity{}.Encode, codecs.Activity{}.Decode, codecs.DecodeActivityInto)
}

func BenchmarkTransactionLineEncode(b *testing.B) {
	benchEncode(b, benchRecord[event.TransactionLine](1), codecs.TransactionLine{}.Encode, codecs.AppendTransactionLine)
}

func BenchmarkTransactionLineDecode(b *testing.B) {
	benchDecode(b, benchRecord[event.TransactionLine](1), codecs.TransactionLine{}.Encode, codecs.TransactionLine{}.Decode, codecs.DecodeTransactionLineInto)
}

func BenchmarkInventoryUpdateEncode(b *testing.B) {
	benchEncode(b, benchRecord[event.InventoryUpdate](2), codecs.InventoryUpdate{}.Encode, codecs.AppendInventoryUpdate)
}

func BenchmarkInventoryUpdateDecode(b *testing.B) {
	benchDecode(b, benchRecord[event.InventoryUpdate](2), codecs.InventoryUpdate{}.Encode, codecs.InventoryUpdate{}.Decode, codecs.DecodeInventoryUpdateInto)
}

func BenchmarkReviewEncode(b *testing.B) {
	benchEncode(b, benchRecord[event.Review](3), codecs.Review{}.Encode, codecs.AppendReview)
}

func BenchmarkReviewDecode(b *testing.B) {
	benchDecode(b, benchRecord[event.Review](3), codecs.Review{}.Encode, codecs.Review{}.Decode, codecs.DecodeReviewInto)
}

func BenchmarkDeadLetterEncode(b *testing.B) {
	benchEncode(b, benchRecord[event.DeadLetter](4), codecs.DeadLetter{}.Encode, codecs.AppendDeadLetter)
}

func BenchmarkDeadLetterDecode(b *testing.B) {
	benchDecode(b, benchRecord[event.DeadLetter](4), codecs.DeadLetter{}.Encode, codecs.DeadLetter{}.Decode, codecs.DecodeDeadLetterInto)
}
