package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"testing"
)

// assignState returns a state with nodes of the given stakes serving m1 (and one node serving
// only m2), registered in block 1, with its signers.
func assignState(t *testing.T, stakes []uint64) (*State, []*Signer) {
	t.Helper()
	g := Genesis{ChainID: "assign", Params: DefaultParams()}
	var signers []*Signer
	var txs [][]byte
	for i := range len(stakes) + 1 {
		s := NewSigner(keyFor(fmt.Sprintf("assign %d", i)), g.ChainID)
		signers = append(signers, s)
		g.Accounts = append(g.Accounts, GenesisAccount{Key: s.Key(), Balance: 1 << 40})
		if i < len(stakes) {
			txs = append(txs, s.RegisterNode(RegisterNode{Stake: stakes[i], Models: []Model{modelFor("m1")}}))
		} else {
			txs = append(txs, s.RegisterNode(RegisterNode{Stake: 1 << 30, Models: []Model{modelFor("m2")}}))
		}
	}
	st, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.FinalizeBlock(Block{Height: 1, Txs: txs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.TxResults {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	st.Commit()
	return st, signers
}

// referenceAssign is the slow, obvious twin of State.assign: exact big-integer arithmetic and
// a fresh cumulative scan for every draw.
func referenceAssign(rnd [32]byte, id TaskID, round uint8, cands []*Node, n int) []PubKey {
	pool := slices.Clone(cands)
	var out []PubKey
	for i := range n {
		msg := append([]byte("genquorum/assign/v1"), rnd[:]...)
		msg = append(msg, id[:]...)
		msg = append(msg, round)
		msg = binary.BigEndian.AppendUint32(msg, uint32(i))
		r := sha256.Sum256(msg)
		total := new(big.Int)
		for _, c := range pool {
			total.Add(total, new(big.Int).SetUint64(c.Stake))
		}
		x := new(big.Int).SetBytes(r[:8])
		x.Mul(x, total).Rsh(x, 64) // floor(u * W / 2^64)
		acc := new(big.Int)
		for j, c := range pool {
			acc.Add(acc, new(big.Int).SetUint64(c.Stake))
			if x.Cmp(acc) < 0 {
				out = append(out, c.Key)
				pool = slices.Delete(pool, j, j+1)
				break
			}
		}
	}
	return out
}

// TestAssignMatchesReference: the executors drawn are those of the reference sampler, all
// distinct, all serving the model, never the submitter.
func TestAssignMatchesReference(t *testing.T) {
	st, signers := assignState(t, []uint64{100, 250, 1000, 100, 5000, 333, 100})
	submitter := signers[2].Key() // a node: it must be excluded
	for i := range 300 {
		n := 1 + i%6
		st.rand = sha256.Sum256([]byte(fmt.Sprint("rand", i)))
		task := &Task{ID: sha256.Sum256([]byte(fmt.Sprint("task", i))), Round: uint8(i % 2)}
		cands := st.eligible(modelFor("m1"), "text", submitter)
		if len(cands) != 6 {
			t.Fatalf("%d eligible, want 6", len(cands))
		}
		want := referenceAssign(st.rand, task.ID, task.Round, cands, n)
		var ev []Event
		st.assign(task, cands, n, &ev)
		got := ev[0].Nodes
		if !slices.Equal(got, want) {
			t.Fatalf("draw %d: assign = %v, reference %v", i, got, want)
		}
		seen := map[PubKey]bool{}
		for _, k := range got {
			if seen[k] || k == submitter || !st.nodes[k].serves(modelFor("m1")) {
				t.Fatalf("draw %d: bad executor set %v", i, got)
			}
			seen[k] = true
		}
	}
}

// TestAssignStakeWeighted: single draws pick each node in proportion to its stake, within four
// binomial standard deviations over 20,000 draws. (Uniform picking would be off by more than
// 30 standard deviations for these stakes.)
func TestAssignStakeWeighted(t *testing.T) {
	stakes := []uint64{100, 200, 300, 400}
	st, _ := assignState(t, stakes)
	cands := st.eligible(modelFor("m1"), "text", PubKey{})
	count := map[PubKey]int{}
	const draws = 20000
	for i := range draws {
		st.rand = sha256.Sum256([]byte(fmt.Sprint("r", i)))
		var ev []Event
		st.assign(&Task{ID: TaskID(sha256.Sum256([]byte(fmt.Sprint("t", i))))}, cands, 1, &ev)
		count[ev[0].Nodes[0]]++
	}
	for _, c := range cands {
		p := float64(c.Stake) / 1000
		mean, sd := draws*p, math.Sqrt(draws*p*(1-p))
		if got := float64(count[c.Key]); math.Abs(got-mean) > 4*sd {
			t.Errorf("stake %d picked %v times, want %.0f ± %.0f", c.Stake, got, mean, 4*sd)
		}
	}
}
