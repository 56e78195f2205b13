package node

import (
	"testing"

	"github.com/genquorum/genquorum/ledger"
)

func TestJobKeyRoundTrip(t *testing.T) {
	k := jobKey{task: ledger.TaskID{0xab, 1, 2}, round: 1}
	got, ok := parseJobKey(k.stateKey())
	if !ok || got != k {
		t.Errorf("parseJobKey(%q) = %v, %v; want %v", k.stateKey(), got, ok, k)
	}
	for _, bad := range []string{"", "job/", "job/zz/0", "job/" + k.task.String(), "job/" + k.task.String() + "/256", "height", "job/ab/1"} {
		if _, ok := parseJobKey(bad); ok {
			t.Errorf("parseJobKey(%q) accepted a malformed key", bad)
		}
	}
}
