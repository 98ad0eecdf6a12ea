package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestRedactKeys(t *testing.T) {
	cases := map[string]string{
		"could not commit message with key '17850': kafka: broken":           "could not commit message with key '<redacted>': kafka: broken",
		"error processing message for key 17850 from shopease.activity/3: x": "error processing message for key <redacted> from shopease.activity/3: x",
		"error getting key u-42 of table t: y":                               "error getting key <redacted> of table t: y",
		"error deleting key (u 42) from storage: z":                          "error deleting key (<redacted>) from storage: z",
		"error getting value (key abc): q":                                   "error getting value (key <redacted>): q",
		"error encoding message for key 17850.0: bad":                        "error encoding message for key <redacted>: bad",
		"config for topic t did not contain requested key cleanup.policy":    "config for topic t did not contain requested key <redacted>",
		"Consumer group returned, Rebalancing.":                              "Consumer group returned, Rebalancing.",
	}
	for in, want := range cases {
		if got := RedactKeys(in); got != want {
			t.Errorf("RedactKeys(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	err := RedactError(fmt.Errorf("processing: could not commit message with key '17850': %w", context.Canceled))
	if !errors.Is(err, context.Canceled) || err.Error() != "processing: could not commit message with key '<redacted>': context canceled" {
		t.Errorf("RedactError: %q", err)
	}
}
