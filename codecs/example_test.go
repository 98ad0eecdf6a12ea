package codecs_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"
	"github.com/shopease/shopease/codecs"
	"github.com/shopease/shopease/event"
)

func Example() {
	// A goka graph names the codec of each topic; Decode hands the callback a *event.Activity.
	_ = goka.DefineGroup("example",
		goka.Input("shopease.activity", new(codecs.Activity), func(ctx goka.Context, msg any) {
			_ = msg.(*event.Activity)
		}),
	)

	data, err := codecs.Activity{}.Encode(event.Activity{
		EventID: "a1", UserID: "u42", Type: event.AddToCart, ProductID: "P7",
		Time: time.Date(2024, 3, 1, 10, 15, 0, 0, time.UTC),
	})
	fmt.Println(string(data), err)

	// Strict decoding names the field and unwraps to a sentinel.
	_, err = codecs.DecodeActivity([]byte(`{"event_id":"a1","type":"click","time":"2024-03-01T10:15:00Z"}`))
	var fe *codecs.FieldError
	if errors.As(err, &fe) && errors.Is(err, codecs.ErrBadValue) {
		fmt.Println(fe.Field, "|", err)
	}
	_, err = codecs.DecodeTransactionLine([]byte(`{"line_id":"l1","type":"purchase","time":"2024-03-01T10:15:00Z"}`))
	fmt.Println(errors.Is(err, codecs.ErrMissingField), err)
	// Output:
	// {"event_id":"a1","user_id":"u42","type":"add_to_cart","product_id":"P7","time":"2024-03-01T10:15:00Z"} <nil>
	// type | codecs: decode Activity.type at byte 24: bad value: unknown type "click"
	// true codecs: decode TransactionLine.order_id at byte 64: missing required field
}

func ExampleAppendTransactionLine() {
	// On a hot path, one buffer serves every record.
	buf := make([]byte, 0, 512)
	for i, price := range []string{"4.95", "0.665"} {
		line := event.TransactionLine{
			LineID: fmt.Sprintf("o1-%d", i+1), OrderID: "o1", Type: event.Purchase, Quantity: 2,
			UnitPrice: event.MustMoney(price), Time: time.Date(2024, 3, 1, 10, 15, 0, 0, time.UTC),
		}
		var err error
		buf, err = codecs.AppendTransactionLine(buf[:0], &line)
		if err != nil {
			panic(err)
		}
		fmt.Println(string(buf))
	}
	// Output:
	// {"line_id":"o1-1","order_id":"o1","type":"purchase","user_id":"","product_id":"","quantity":2,"unit_price":"4.95","time":"2024-03-01T10:15:00Z"}
	// {"line_id":"o1-2","order_id":"o1","type":"purchase","user_id":"","product_id":"","quantity":2,"unit_price":"0.665","time":"2024-03-01T10:15:00Z"}
}
