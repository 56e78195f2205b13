package node

import (
	"context"
	"testing"
	"time"

	"github.com/genquorum/genquorum/ledger"
)

func TestCapacityFor(t *testing.T) {
	for _, c := range []struct {
		name        string
		budget, est time.Duration
		workers     int
		maxCap      uint32
		want        uint32
	}{
		{"no estimate yet", 15 * time.Second, 0, 1, 32, 32},
		{"no window floor", 0, time.Second, 1, 32, 32},
		{"fast runs: the configured most", 15 * time.Second, 100 * time.Millisecond, 1, 32, 32},
		{"idle image runs", 15 * time.Second, 2 * time.Second, 1, 32, 7},
		{"loaded image runs", 15 * time.Second, 14 * time.Second, 1, 32, 1},
		{"slower than the budget: still one per worker", 15 * time.Second, 40 * time.Second, 2, 32, 2},
		{"workers multiply", 15 * time.Second, 2 * time.Second, 3, 32, 21},
		{"exactly the budget", 15 * time.Second, 5 * time.Second, 1, 32, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := capacityFor(c.budget, c.est, c.workers, c.maxCap); got != c.want {
				t.Errorf("capacityFor(%v, %v, %d, %d) = %d, want %d", c.budget, c.est, c.workers, c.maxCap, got, c.want)
			}
		})
	}
}

// TestIntakeNote: the estimate is the slowest recent run, so one slow run lowers the capacity
// at once and it comes back up only once intakeRuns faster runs have pushed it out.
func TestIntakeNote(t *testing.T) {
	in := newIntake()
	in.setDeclared(32)
	floor := 30 * time.Second // budget 15 s
	if c, changed := in.note(100*time.Millisecond, floor, 1, 32); changed || c != 32 {
		t.Fatalf("fast run: capacity %d changed %v, want 32 unchanged", c, changed)
	}
	c, changed := in.note(5*time.Second, floor, 1, 32)
	if !changed || c != 3 {
		t.Fatalf("a 5 s run: capacity %d changed %v, want 3 changed", c, changed)
	}
	in.setDeclared(c)
	for i := range intakeRuns - 1 {
		if c, changed := in.note(time.Second, floor, 1, 32); changed || c != 3 {
			t.Fatalf("fast run %d after the slow one: capacity %d changed %v, want 3 unchanged", i, c, changed)
		}
	}
	if c, changed := in.note(time.Second, floor, 1, 32); !changed || c != 15 {
		t.Fatalf("the slow run pushed out: capacity %d changed %v, want 15 changed", c, changed)
	}
}

// TestAbandon: a run whose commit window closed is cancelled; another's is not.
func TestAbandon(t *testing.T) {
	n := &Node{running: map[jobKey]context.CancelFunc{}}
	a, b := jobKey{task: ledger.TaskID{1}}, jobKey{task: ledger.TaskID{2}}
	actx, acancel := context.WithCancel(t.Context())
	defer acancel()
	bctx, bcancel := context.WithCancel(t.Context())
	defer bcancel()
	n.running[a], n.running[b] = acancel, bcancel
	n.abandon(a)
	n.abandon(jobKey{task: ledger.TaskID{3}}) // not running: nothing to do
	if actx.Err() == nil {
		t.Error("run of a not cancelled after its window closed")
	}
	if bctx.Err() != nil {
		t.Error("run of b cancelled, its window is open")
	}
}
