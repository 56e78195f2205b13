package main

import (
	"strings"
	"testing"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/node"
)

// TestNoVerdictFails: submit --wait exits non-zero when the task settles without a verdict.
func TestNoVerdictFails(t *testing.T) {
	tests := []struct {
		tv   chain.TaskView
		want string // "" for no error
	}{
		{chain.TaskView{ID: "ab", Status: "settled", Value: "text:tokens:1,2"}, ""},
		{chain.TaskView{ID: "ab", Status: "settled", Reason: "no value reached the quorum"}, "task ab: no verdict: no value reached the quorum"},
		{chain.TaskView{ID: "ab", Status: "refunded"}, "task ab: no verdict: status refunded"},
	}
	for _, tt := range tests {
		err := node.NoVerdict(tt.tv)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("NoVerdict(%+v) = %v, want %q", tt.tv, err, tt.want)
		}
		if err != nil && exitCode(t.Context(), err) != exitError {
			t.Errorf("exit %d, want %d", exitCode(t.Context(), err), exitError)
		}
	}
}
