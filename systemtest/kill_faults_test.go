//go:build faults

package systemtest

import (
	"testing"

	"github.com/shopease/shopease/generate"
)

// TestFaultKillRestart (issue 11 case 1, issue 5 item 7): the processor group SIGKILLed 5 times
// at random moments during the replay of a ~100k-row history, restarted each time, ends with
// exactly the tables and outputs of an undisturbed run.
func TestFaultKillRestart(t *testing.T) {
	runKillCase(t, killCase{history: generate.Small(), rate: 2500, kills: 5})
}
