package node

import (
	"context"
	"sync"
	"time"

	"github.com/genquorum/genquorum/ledger"
)

// Intake: the capacity a node declares follows how fast it runs.
//
// The ledger assigns a node up to its declared capacity of open assignments, and each must be
// committed within the commit window, which is guaranteed to last at least MinCommitMillis of
// block time (blocks may come faster than the window's block count suggests). A node with one
// worker runs its assignments one after the other, so the last of c assignments is committed
// after about c runs: a node that declares more than it can run within the window is slashed
// for no commitment although it is honest, which is what a loaded machine did with a fixed
// capacity (README, "Capacity"). So after every run the node estimates how long a run takes
// (the slowest of its last intakeRuns runs, task query to queued commitment) and declares
//
//	capacity = workers * floor(budget / estimate), within [workers, Config.Capacity]
//
// with budget = intakeShare of the window's time floor, the rest left for seeing the
// assignment late and for the commitment's inclusion. A change is re-announced (RegisterNode
// without stake) as soon as it is computed; the ledger then assigns no more than that (it
// never takes back what it assigned before).

// intakeRuns is how many recent runs the estimate looks at.
const intakeRuns = 16

// intakeShareNum/intakeShareDen is the share of the commit window's time floor that the queue
// of assignments may take (intakeShare above): half.
const intakeShareNum, intakeShareDen = 1, 2

// intake estimates the node's run time and the capacity to declare.
type intake struct {
	mu       sync.Mutex
	runs     [intakeRuns]time.Duration // ring of recent run times
	n        int                       // runs recorded
	declared uint32                    // capacity last announced (0: unknown)
	want     chan uint32               // capacity to announce (the latest wins)
}

func newIntake() *intake { return &intake{want: make(chan uint32, 1)} }

// estimate returns the slowest of the recent runs (0 before the first).
func (in *intake) estimate() time.Duration {
	var m time.Duration
	for i := range min(in.n, intakeRuns) {
		m = max(m, in.runs[i])
	}
	return m
}

// note records a run of d and returns the capacity to declare if it differs from the one
// declared (and true), for a window floor of floor, workers and the most capacity maxCap.
func (in *intake) note(d, floor time.Duration, workers int, maxCap uint32) (uint32, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.runs[in.n%intakeRuns] = d
	in.n++
	c := capacityFor(floor*intakeShareNum/intakeShareDen, in.estimate(), workers, maxCap)
	return c, in.declared != 0 && c != in.declared
}

// capacityFor is workers * floor(budget / est), within [workers, maxCap]; maxCap when there is
// no estimate or no budget (no window floor to size against).
func capacityFor(budget, est time.Duration, workers int, maxCap uint32) uint32 {
	if est <= 0 || budget <= 0 {
		return maxCap
	}
	c := uint64(budget/est) * uint64(workers)
	return uint32(min(max(c, uint64(workers)), uint64(maxCap)))
}

// setDeclared records the capacity the ledger holds for this node.
func (in *intake) setDeclared(c uint32) {
	in.mu.Lock()
	in.declared = c
	in.mu.Unlock()
}

// ask hands c to the announcer, replacing a value it has not taken yet.
func (in *intake) ask(c uint32) {
	for {
		select {
		case in.want <- c:
			return
		default:
		}
		select {
		case <-in.want:
		default:
		}
	}
}

// noteRun records the run time of one assignment (a worker took it -> its commitment queued)
// and asks for a new capacity when the estimate calls for one.
func (n *Node) noteRun(d time.Duration) {
	if n.commitFloor <= 0 {
		return
	}
	if c, changed := n.intake.note(d, n.commitFloor, n.cfg.Workers, n.cfg.Capacity); changed {
		n.intake.ask(c)
	}
}

// announceCapacity re-announces the node with each capacity asked for (RegisterNode without
// stake), until ctx is done. It broadcasts without waiting for inclusion, so that the
// commitments behind it are not held up.
func (n *Node) announceCapacity(ctx context.Context) {
	for {
		var c uint32
		select {
		case <-ctx.Done():
			return
		case c = <-n.intake.want:
		}
		n.intake.mu.Lock()
		same := c == n.intake.declared
		from, est := n.intake.declared, n.intake.estimate()
		n.intake.mu.Unlock()
		if same {
			continue
		}
		reg := n.registration()
		reg.Stake, reg.Capacity = 0, c
		if err := n.broadcast(ctx, func(s *ledger.Signer) []byte { return s.RegisterNode(reg) }); err != nil {
			if ctx.Err() == nil {
				n.logger.Warn("capacity not announced", "capacity", c, "err", err)
			}
			continue
		}
		n.intake.setDeclared(c)
		n.logger.Info("capacity announced", "from", from, "to", c, "run_estimate_ms", est.Milliseconds(),
			"commit_floor_ms", n.commitFloor.Milliseconds())
	}
}
