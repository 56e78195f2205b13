package ledger

import (
	"errors"
	"fmt"
	"testing"
)

// TestPruneSettledTasks runs a workload of settled tasks under Params.PruneAfter: every task
// is deleted PruneAfter blocks after its settlement, the incremental app hash stays equal to
// the one from scratch, a state restored from MarshalState at any height continues to the
// same app hashes as the live one (pruning schedule rebuilt), a commitment or reveal about a
// pruned task is refused as about an unknown task, and a chain without pruning keeps every task.
func TestPruneSettledTasks(t *testing.T) {
	const perBlock, batches, nodes = 20, 6, 8
	for _, pruneAfter := range []uint64{0, 1, 3} {
		t.Run(fmt.Sprintf("prune-after=%d", pruneAfter), func(t *testing.T) {
			p := DefaultParams()
			p.PruneAfter = pruneAfter
			w := settleBlocksWith(t, p, perBlock, batches, nodes)
			st, err := New(w.genesis)
			if err != nil {
				t.Fatal(err)
			}
			var settledAt = map[TaskID]uint64{}
			run := func(st *State, blk Block) BlockResult {
				t.Helper()
				res, err := st.FinalizeBlock(blk, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Commit(); err != nil {
					t.Fatal(err)
				}
				return res
			}
			for i, blk := range w.blocks {
				res := run(st, blk)
				for _, r := range res.TxResults {
					for _, e := range r.Events {
						if e.Type == EventVerdict {
							settledAt[e.Task] = blk.Height
						}
					}
				}
				if full := st.fullAppHash(); full != res.AppHash {
					t.Fatalf("height %d: incremental app hash %x, from scratch %x", blk.Height, res.AppHash, full)
				}
				// Restore at this height and check the copy follows the same path to the end.
				if i%2 == 1 {
					cp, err := UnmarshalState(st.MarshalState())
					if err != nil {
						t.Fatal(err)
					}
					ref, _ := UnmarshalState(st.MarshalState())
					for _, next := range w.blocks[i+1:] {
						if a, b := run(cp, next).AppHash, run(ref, next).AppHash; a != b {
							t.Fatalf("restored at %d: app hash %x at %d, want %x", blk.Height, a, next.Height, b)
						}
					}
				}
				for id, h := range settledAt {
					_, ok := st.Task(id)
					if want := pruneAfter == 0 || blk.Height < h+pruneAfter; ok != want {
						t.Fatalf("height %d: task settled at %d present %v, want %v", blk.Height, h, ok, want)
					}
				}
			}
			if len(settledAt) != perBlock*batches {
				t.Fatalf("%d tasks settled, want %d", len(settledAt), perBlock*batches)
			}
			// Empty blocks until every task is past its pruning height.
			for range pruneAfter + 1 {
				run(st, Block{Height: st.Height() + 1})
			}
			want := 0
			if pruneAfter == 0 {
				want = perBlock * batches
			}
			if got := st.TaskCount(); got != want {
				t.Errorf("%d tasks left in the state, want %d", got, want)
			}
			if st.Waiting() {
				t.Error("Waiting() with every task settled")
			}
			if pruneAfter != 0 {
				// A commitment or reveal about a pruned task is refused as about an unknown task.
				var any TaskID
				for id := range settledAt {
					any = id
					break
				}
				if err := st.openTaskErr(any); !errors.Is(err, ErrUnknownTask) {
					t.Errorf("pruned task: %v, want ErrUnknownTask", err)
				}
			}
		})
	}
}

// openTaskErr returns the error openTask gives for id (with no signer).
func (s *State) openTaskErr(id TaskID) error {
	_, _, err := s.openTask(id, PubKey{})
	return err
}

// BenchmarkStateGrowth measures the ledger state (MarshalState bytes: what a snapshot holds
// and what the node keeps in memory, roughly) after 10,000 settled 3-replica tasks on 64 nodes,
// with and without pruning (PruneAfter 100 blocks, then 100 blocks with no task). Reported as
// state-bytes per 10,000 settled tasks.
func BenchmarkStateGrowth(b *testing.B) {
	const perBlock, batches, nodes = 1000, 10, 64
	for _, pruneAfter := range []uint64{0, 100} {
		b.Run(fmt.Sprintf("prune-after=%d", pruneAfter), func(b *testing.B) {
			p := DefaultParams()
			p.PruneAfter = pruneAfter
			w := settleBlocksWith(b, p, perBlock, batches, nodes)
			var size int
			for b.Loop() {
				st, _ := New(w.genesis)
				for _, blk := range w.blocks {
					st.FinalizeBlock(blk, nil)
					st.Commit()
				}
				for range 100 {
					st.FinalizeBlock(Block{Height: st.Height() + 1}, nil)
					st.Commit()
				}
				size = len(st.MarshalState())
			}
			b.ReportMetric(float64(size)*10000/float64(w.tasks), "state-bytes/10k-tasks")
		})
	}
}
