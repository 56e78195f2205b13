package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/genquorum/genquorum/quorum"
)

// settleWorkload is a pre-signed chain of blocks: block 1 registers the nodes; from then on
// block i carries the submissions of batch i, the commitments of batch i-1 and the reveals of
// batch i-2, so that every task settles in the block of its last reveal, three blocks after
// submission. Signing happens once, outside the timed runs.
type settleWorkload struct {
	genesis Genesis
	blocks  []Block
	tasks   int
	txs     int
}

var workloads sync.Map // key string -> *settleWorkload

func settleBlocks(b testing.TB, perBlock, batches, nNodes int) *settleWorkload {
	return settleBlocksWith(b, DefaultParams(), perBlock, batches, nNodes)
}

// settleBlocksWith is settleBlocks under params p.
func settleBlocksWith(b testing.TB, p Params, perBlock, batches, nNodes int) *settleWorkload {
	key := fmt.Sprint(p, perBlock, batches, nNodes)
	if w, ok := workloads.Load(key); ok {
		return w.(*settleWorkload)
	}
	g := Genesis{ChainID: "bench", Params: p}
	mk := func(s string) *Signer {
		seed := sha256.Sum256([]byte(s))
		return NewSigner(ed25519.NewKeyFromSeed(seed[:]), g.ChainID)
	}
	client := mk("client")
	g.Accounts = append(g.Accounts, GenesisAccount{Key: client.Key(), Balance: 1 << 60})
	nodes := map[PubKey]*Signer{}
	var reg [][]byte
	model := modelFor("m1")
	for i := range nNodes {
		n := mk(fmt.Sprint("node", i))
		nodes[n.Key()] = n
		g.Accounts = append(g.Accounts, GenesisAccount{Key: n.Key(), Balance: 1 << 40})
		reg = append(reg, n.RegisterNode(RegisterNode{Stake: 1000 + uint64(i), Models: []Model{model}}))
	}
	prep, err := New(g)
	if err != nil {
		b.Fatal(err)
	}
	w := &settleWorkload{genesis: g}
	finalize := func(blk Block) BlockResult {
		res, err := prep.FinalizeBlock(blk, nil)
		if err != nil {
			b.Fatal(err)
		}
		prep.Commit()
		w.blocks = append(w.blocks, blk)
		w.txs += len(blk.Txs)
		return res
	}
	finalize(Block{Height: 1, Txs: reg})
	type job struct {
		task TaskID
		node *Signer
		fp   []byte
	}
	var commits, reveals []job
	for i := 0; i < batches+2; i++ {
		var txs [][]byte
		if i < batches {
			for range perBlock {
				raw, _ := client.SubmitTask(SubmitTask{Kind: "image", Model: model, Prompt: []byte("a cat"),
					Seed: 1, Replicas: 3, Tolerance: 4, Rule: quorum.Majority, FingerprintLen: 8, Fee: 30})
				txs = append(txs, raw)
			}
		}
		var salt [32]byte
		for _, j := range commits {
			txs = append(txs, j.node.Commit(j.task, j.fp, salt))
		}
		for _, j := range reveals {
			txs = append(txs, j.node.Reveal(j.task, j.fp, salt, [32]byte{}))
		}
		reveals, commits = commits, nil
		h := prep.Height() + 1
		res := finalize(Block{Height: h, Rand: sha256.Sum256([]byte(fmt.Sprint(h))), Txs: txs})
		for _, r := range res.TxResults {
			if r.Err != nil {
				b.Fatalf("workload: %v", r.Err)
			}
			for _, e := range r.Events {
				switch e.Type {
				case EventTaskAssigned:
					for k, n := range e.Nodes {
						fp := []byte{1, 2, 3, 4, 5, 6, 7, byte(k)} // within tolerance of each other
						commits = append(commits, job{e.Task, nodes[n], fp})
					}
				case EventVerdict:
					w.tasks++
				}
			}
		}
	}
	if w.tasks != perBlock*batches {
		b.Fatalf("workload settled %d tasks, want %d", w.tasks, perBlock*batches)
	}
	workloads.Store(key, w)
	return w
}

// BenchmarkSettle3 measures the state machine alone settling n=3 tasks: per task one
// submission, three commitments and three reveals, pre-signed, through FinalizeBlock, with
// 1000 tasks submitted per block. "sigcache" is the path of a validator whose CheckTx already
// verified the signatures (the cache is filled outside the timer); "verify" checks every
// signature inside FinalizeBlock.
func BenchmarkSettle3(b *testing.B) {
	const perBlock, batches, nNodes = 1000, 8, 64
	w := settleBlocks(b, perBlock, batches, nNodes)
	for _, mode := range []string{"sigcache", "verify"} {
		b.Run(fmt.Sprintf("tasks=%d/nodes=%d/%s", w.tasks, nNodes, mode), func(b *testing.B) {
			b.ReportAllocs()
			var cache *SigCache
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				st, err := New(w.genesis)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "sigcache" {
					cache = NewSigCache(w.genesis.ChainID, w.txs)
					for _, blk := range w.blocks {
						for _, raw := range blk.Txs {
							cache.add(w.genesis.ChainID, TxHash(raw))
						}
					}
				}
				b.StartTimer()
				c0 := cpuTime()
				for _, blk := range w.blocks {
					if _, err := st.FinalizeBlock(blk, cache); err != nil {
						b.Fatal(err)
					}
					st.Commit()
				}
				cpu += cpuTime() - c0
			}
			// CPU time (user+system, all threads, GC included) is less disturbed than wall
			// time on a shared machine.
			b.ReportMetric(float64(w.tasks)*float64(b.N)/cpu.Seconds(), "tasks/cpu-s")
			b.ReportMetric(float64(w.tasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
			b.ReportMetric(float64(w.txs)*float64(b.N)/b.Elapsed().Seconds(), "txs/s")
		})
	}
}

// BenchmarkCheckTx measures the stateless check of one commit transaction (decode, hash,
// ed25519 verification): the per-transaction cost that the signature cache moves out of
// FinalizeBlock.
func BenchmarkCheckTx(b *testing.B) {
	raw := goldenTxs()[4]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CheckTx("golden", raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppHash measures folding changed entries into the app hash: one task entry
// changed per op (SHA-256 of the leaf, two SHAKE128 expansions, 2x1024 word additions).
func BenchmarkAppHash(b *testing.B) {
	st, _ := New(Genesis{ChainID: "bench", Params: DefaultParams()})
	t := &Task{ID: TaskID{1}, Executors: make([]Executor, 3)}
	st.tasks[t.ID] = t
	b.ReportAllocs()
	for b.Loop() {
		t.SettledAt++
		st.touch(kindTask, t.ID)
		st.fold()
	}
}

// cpuTime returns the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMarshalState measures saving and restoring the state left by BenchmarkSettle3's
// workload (8000 settled tasks, 64 nodes): what a chain pays per snapshot.
func BenchmarkMarshalState(b *testing.B) {
	w := settleBlocks(b, 1000, 8, 64)
	st, _ := New(w.genesis)
	for _, blk := range w.blocks {
		st.FinalizeBlock(blk, nil)
		st.Commit()
	}
	enc := st.MarshalState()
	b.Run(fmt.Sprintf("marshal/tasks=%d", w.tasks), func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			st.MarshalState()
		}
	})
	b.Run(fmt.Sprintf("unmarshal/tasks=%d", w.tasks), func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := UnmarshalState(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
