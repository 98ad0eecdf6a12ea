package transactions

import (
	"testing"

	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/pseudonym"
)

// BenchmarkAcceptPath is the gateway's own work per accepted record, without goka and Kafka:
// decode, validate, pseudonymize and encode the clean line (once: goka encodes per output).
func BenchmarkAcceptPath(b *testing.B) {
	raw, err := codecs.AppendTransactionLine(nil, ptr(goodLine()))
	if err != nil {
		b.Fatal(err)
	}
	p := pseudonym.Demo()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		l, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if r, _ := Validate(l); r != "" {
			b.Fatal(r)
		}
		l.UserID = p.Of(l.UserID)
		if _, err := (codecs.TransactionLine{}).Encode(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectUnknownType is the slow path of a record with an unknown type: two decodes.
func BenchmarkRejectUnknownType(b *testing.B) {
	raw := []byte(`{"line_id":"o1-1","order_id":"o1","type":"exchange","user_id":"u1","product_id":"P1","quantity":2,"unit_price":"4.95","time":"2024-03-01T10:15:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		l, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if r, _ := Validate(l); r == "" {
			b.Fatal("accepted")
		}
	}
}

func ptr[T any](v T) *T { return &v }
