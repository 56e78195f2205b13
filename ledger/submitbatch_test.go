package ledger

import (
	"errors"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

func batchSpec(replicas uint32, fee uint64) SubmitTask {
	return SubmitTask{Kind: "text", Model: modelFor("m1"), Replicas: replicas, Rule: quorum.Majority, FingerprintLen: 4, Fee: fee}
}

// TestSubmitBatch: one transaction submits several tasks under one signature, nonce and
// TxFee; item i becomes task BatchTaskID(signer, nonce, i), each pays its own fee; an item
// that fails (capacity, replicas over the chain's limit, funds) is skipped with an
// item-rejected event carrying its code, and the others apply. The tasks then settle like
// singly submitted ones.
func TestSubmitBatch(t *testing.T) {
	p := DefaultParams()
	p.TxFee = 7
	tests := []struct {
		name       string
		capacity   uint32
		tasks      []SubmitTask
		wantOK     []bool
		wantCode   []error // per rejected item, in order
		checkTxErr error   // CheckTx of the batch on the state before it
	}{
		{name: "all accepted", capacity: 0, tasks: []SubmitTask{batchSpec(3, 90), batchSpec(3, 50), batchSpec(2, 10)},
			wantOK: []bool{true, true, true}},
		{name: "capacity skips the third", capacity: 2, tasks: []SubmitTask{batchSpec(3, 90), batchSpec(3, 90), batchSpec(3, 90), batchSpec(3, 90)},
			wantOK: []bool{true, true, false, false}, wantCode: []error{ErrNoCapacity, ErrNoCapacity}},
		{name: "replicas over the limit skipped", capacity: 0, tasks: []SubmitTask{{Kind: "text", Model: modelFor("m1"), Replicas: p.MaxReplicas + 1,
			Rule: quorum.Majority, FingerprintLen: 4, Fee: 1}, batchSpec(3, 90)}, wantOK: []bool{false, true}, wantCode: []error{ErrInvalidTask}},
		{name: "fee over the balance skipped", capacity: 0, tasks: []SubmitTask{batchSpec(3, 1<<41), batchSpec(3, 90)},
			wantOK: []bool{false, true}, wantCode: []error{ErrInsufficientFunds}},
		{name: "nothing can apply: refused at CheckTx", capacity: 0, tasks: []SubmitTask{{Kind: "text", Model: modelFor("m2"), Replicas: 3,
			Rule: quorum.Majority, FingerprintLen: 4, Fee: 1}}, wantOK: []bool{false}, wantCode: []error{ErrNotEnoughNodes}, checkTxErr: ErrNotEnoughNodes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newLoadNet(t, p, tc.capacity, tc.capacity, tc.capacity)
			before := n.st.Account(n.client.Key()).Balance
			tx, ids := n.client.SubmitBatch(tc.tasks)
			if len(ids) != len(tc.tasks) {
				t.Fatalf("%d IDs for %d tasks", len(ids), len(tc.tasks))
			}
			for i, id := range ids {
				if id != BatchTaskID(n.client.Key(), n.client.Nonce(), i) || id == TaskIDFor(n.client.Key(), n.client.Nonce()) {
					t.Fatalf("ID %d: %v", i, id)
				}
			}
			if _, err := n.st.CheckTx(tx, nil); !errors.Is(err, tc.checkTxErr) || (tc.checkTxErr == nil) != (err == nil) {
				t.Fatalf("CheckTx: %v, want %v", err, tc.checkTxErr)
			}
			res := n.block(1000, tx)
			r := res.TxResults[0]
			if r.Err != nil {
				t.Fatalf("batch rejected: %v", r.Err)
			}
			var rejected []uint64
			for _, e := range r.Events {
				if e.Type == EventItemRejected {
					rejected = append(rejected, e.Amount)
				}
			}
			if len(rejected) != len(tc.wantCode) {
				t.Fatalf("%d items rejected (%v), want %d", len(rejected), r.Events, len(tc.wantCode))
			}
			for i, want := range tc.wantCode {
				if rejected[i] != uint64(Code(want)) {
					t.Errorf("rejected item %d: code %d, want %d (%v)", i, rejected[i], Code(want), want)
				}
			}
			var fees uint64
			for i, id := range ids {
				tk, ok := n.st.Task(id)
				if ok != tc.wantOK[i] {
					t.Fatalf("task %d exists %v, want %v", i, ok, tc.wantOK[i])
				}
				if ok {
					fees += tc.tasks[i].Fee
					if tk.Spec.Fee != tc.tasks[i].Fee || tk.Submitter != n.client.Key() || len(tk.Executors) != int(tc.tasks[i].Replicas) {
						t.Errorf("task %d: %+v", i, tk)
					}
				}
			}
			if got, want := before-n.st.Account(n.client.Key()).Balance, fees+p.TxFee; got != want {
				t.Errorf("client paid %d, want task fees %d + one TxFee %d", got, fees, p.TxFee)
			}
			if _, err := n.st.CheckTx(tx, nil); !errors.Is(err, ErrNonce) {
				t.Errorf("replayed batch: CheckTx %v, want ErrNonce", err)
			}
		})
	}
}

// TestSubmitBatchSettles: tasks submitted in one batch are committed and revealed by
// executors' batches and all reach a verdict.
func TestSubmitBatchSettles(t *testing.T) {
	n := newLoadNet(t, DefaultParams(), 0, 0, 0)
	tx, ids := n.client.SubmitBatch([]SubmitTask{batchSpec(3, 90), batchSpec(3, 90), batchSpec(3, 90)})
	n.block(1000, tx)
	fp := []byte{1, 2, 3, 4}
	var commits, reveals [][]byte
	for j, s := range n.nodes {
		var c, r Batch
		for _, id := range ids {
			c.Commits = append(c.Commits, Commit{Task: id, Commitment: CommitmentFor(id, s.Key(), fp, [32]byte{byte(j)})})
			r.Reveals = append(r.Reveals, Reveal{Task: id, Fingerprint: fp, Salt: [32]byte{byte(j)}})
		}
		commits, reveals = append(commits, s.Batch(c)), append(reveals, s.Batch(r))
	}
	n.block(1000, commits...)
	n.block(1000, reveals...)
	for i, id := range ids {
		if tk, _ := n.st.Task(id); tk.Status != StatusAccepted {
			t.Errorf("task %d: status %v", i, tk.Status)
		}
	}
}

// TestSubmitBatchDecode: a SubmitBatch round-trips; empty and invalid-item batches are
// malformed; MaxBatchItems+1 tasks exceed MaxTxBytes before the item count is read.
func TestSubmitBatchDecode(t *testing.T) {
	s := NewSigner(keyFor("decode"), "c")
	many := make([]SubmitTask, MaxBatchItems+1)
	for i := range many {
		many[i] = batchSpec(3, 1)
	}
	bad := batchSpec(3, 1)
	bad.Replicas = 0
	tests := []struct {
		name  string
		tasks []SubmitTask
		want  error
	}{
		{"two tasks", []SubmitTask{batchSpec(3, 1), batchSpec(2, 5)}, nil},
		{"empty", nil, ErrMalformedTx},
		{"over MaxBatchItems: over MaxTxBytes first", many, ErrTxTooLarge},
		{"invalid item", []SubmitTask{batchSpec(3, 1), bad}, ErrMalformedTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := s.SubmitBatch(tc.tasks)
			tx, err := DecodeTx(raw)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("DecodeTx: %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			b, ok := tx.Body.(*SubmitBatch)
			if !ok || len(b.Tasks) != len(tc.tasks) || b.Tasks[1].Replicas != tc.tasks[1].Replicas || tx.Body.Type().String() != "submit-batch" {
				t.Fatalf("decoded %T %+v", tx.Body, tx.Body)
			}
		})
	}
}
