package train

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/tensor"
)

// ledgerNet is a ledger (package ledger's State, driven block by block in this process) with a
// client and four nodes, each on its own hardware profile, that run training tasks with
// segment verification: real training, real re-execution, real bisection and referee.
type ledgerNet struct {
	t      *testing.T
	st     *ledger.State
	cache  *ledger.SigCache
	height uint64
	client *ledger.Signer
	nodes  map[ledger.PubKey]*ledger.Signer
	prof   map[ledger.PubKey]tensor.Profile
	model  ledger.Model
}

const ledgerChain = "train"

func newLedgerNet(t *testing.T, model ledger.Model, profs []tensor.Profile) *ledgerNet {
	n := &ledgerNet{t: t, cache: ledger.NewSigCache(ledgerChain, 1024), model: model,
		nodes: map[ledger.PubKey]*ledger.Signer{}, prof: map[ledger.PubKey]tensor.Profile{}}
	signer := func(name string) *ledger.Signer {
		seed := sha256.Sum256([]byte(name))
		return ledger.NewSigner(ed25519.NewKeyFromSeed(seed[:]), ledgerChain)
	}
	n.client = signer("client")
	g := ledger.Genesis{ChainID: ledgerChain, Params: ledger.DefaultParams(),
		Accounts: []ledger.GenesisAccount{{Key: n.client.Key(), Balance: 100000}}}
	var reg [][]byte
	for i, p := range profs {
		s := signer(fmt.Sprint("node", i))
		n.nodes[s.Key()], n.prof[s.Key()] = s, p
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Key: s.Key(), Balance: 10000})
		reg = append(reg, s.RegisterNode(ledger.RegisterNode{Stake: 10000, Models: []ledger.Model{model}, Hardware: p.Name}))
	}
	st, err := ledger.New(g)
	if err != nil {
		t.Fatal(err)
	}
	n.st = st
	n.block(reg...)
	return n
}

func (n *ledgerNet) block(txs ...[]byte) []ledger.Event {
	n.t.Helper()
	n.height++
	res, err := n.st.FinalizeBlock(ledger.Block{Height: n.height, Rand: sha256.Sum256(fmt.Appendf(nil, "block %d", n.height)), Txs: txs}, n.cache)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.st.Commit(); err != nil {
		n.t.Fatal(err)
	}
	var ev []ledger.Event
	for i, r := range res.TxResults {
		if r.Code != 0 {
			n.t.Fatalf("height %d tx %d: code %d: %v", n.height, i, r.Code, r.Err)
		}
		ev = append(ev, r.Events...)
	}
	return append(ev, res.Events...)
}

// trainer is what the node drawn as trainer does: the series it commits, and how it answers
// digests in a dispute (it replays its own procedure from its checkpoint).
type trainer struct {
	series *Series
	opt    Options // its procedure (a cheat, or none)
}

// ledgerOutcome is a settled training task and what happened on the way.
type ledgerOutcome struct {
	task    ledger.Task
	events  []ledger.Event
	reasons []string // verifiers' rejection reasons
}

// run submits a training task for spec with `verifiers` verifiers each checking `checks`
// segments, plays every node's part, and returns the settled task.
func (n *ledgerNet) run(spec Spec, base diffusion.Named, data *Dataset, tr trainer, verifiers, checks int, tol float64) ledgerOutcome {
	t := n.t
	t.Helper()
	ctx := context.Background()
	cs := tr.series.Commitments()
	verify, seg, fpLen := LedgerSubmit(&spec, len(cs[0].Fingerprint), checks)
	submit, id := n.client.SubmitTask(ledger.SubmitTask{Kind: string(engine.KindTrain), Model: n.model, Prompt: []byte("ti"),
		Replicas: uint32(1 + verifiers), Rule: quorum.Majority, FingerprintLen: fpLen, Fee: 3000, Verify: verify, Segment: seg})
	var out ledgerOutcome
	out.events = n.block(submit)
	series := LedgerSeries(cs)
	var salt [32]byte
	salt[0] = 9
	var tp, cp *Replayer // the dispute's parties
	var disputed uint32 = 1<<32 - 1
	masks := map[int]uint64{} // the verifiers' committed votes
	for range 100 {
		task, _ := n.st.Task(id)
		if task.Status.Settled() {
			out.task = task
			return out
		}
		me := n.nodes[task.Executors[0].Node]
		var txs [][]byte
		switch task.Status {
		case ledger.StatusCommit:
			txs = append(txs, me.Commit(id, series, salt))
		case ledger.StatusReveal:
			txs = append(txs, me.Reveal(id, series, salt, tr.series.Checkpoints[len(cs)-1].Digest))
		case ledger.StatusSegmentsReveal: // the verifiers reveal the votes they committed
			for v := 1; v < len(task.Executors); v++ {
				if x := task.Executors[v]; x.VoteCommitted && !x.Voted {
					txs = append(txs, n.nodes[x.Node].VoteReveal(id, masks[v], 0, salt))
				}
			}
		case ledger.StatusSegments:
			for v := 1; v < len(task.Executors); v++ {
				if task.Executors[v].VoteCommitted {
					continue
				}
				var mask uint64
				for j, k := range ledger.SegmentPicks(task.SegmentRand, id, task.Spec.Segment, v) {
					// Fetched from the trainer; VerifyLedgerSegment checks it against the revealed digest.
					state := tr.series.Checkpoints[k].State
					_, err := VerifyLedgerSegment(ctx, spec, base, data, task.Executors[0].Fingerprint, int(k), state,
						Options{Profile: n.prof[task.Executors[v].Node]}, tol)
					switch {
					case err == nil:
						mask |= 1 << j
					case errors.Is(err, ErrRejected):
						out.reasons = append(out.reasons, err.Error())
					default:
						t.Fatal(err)
					}
				}
				masks[v] = mask
				txs = append(txs, n.nodes[task.Executors[v].Node].VoteCommit(id, mask, 0, salt))
			}
		case ledger.StatusDispute:
			d := task.Dispute
			k := int(d.Segment)
			if d.Challenger != disputed { // a new dispute: both sides replay segment k
				disputed = d.Challenger
				tp = NewReplayer(spec, data, tr.series.Checkpoints[k].State, tr.opt)
				start := tr.series.Checkpoints[k].State // the challenger fetched checkpoint k
				if k == 0 {                             // ... except the initial state, which it builds itself
					r, err := NewRun(spec, base, data, Options{})
					if err != nil {
						t.Fatal(err)
					}
					if start, err = r.State(); err != nil {
						t.Fatal(err)
					}
				}
				cp = NewReplayer(spec, data, start, Options{})
			}
			digest := func(p *Replayer, step uint32) [32]byte {
				dg, err := p.StateDigest(ctx, int(step))
				if err != nil {
					t.Fatal(err)
				}
				return dg
			}
			switch d.Phase {
			case ledger.PhaseInit, ledger.PhaseOpen, ledger.PhaseMid:
				if !d.ChallSent {
					txs = append(txs, n.nodes[task.Executors[d.Challenger].Node].Bisect(id, d.Query, digest(cp, d.Query)))
				}
				if !d.TrainerSent {
					txs = append(txs, me.Bisect(id, d.Query, digest(tp, d.Query)))
				}
			case ledger.PhaseReferee:
				var agreed []byte
				if d.Step > 0 { // fetched from the trainer (the referee checks its digest)
					var err error
					if agreed, err = tp.State(ctx, int(d.Step)-1); err != nil {
						t.Fatal(err)
					}
				}
				ref, err := RefereeStep(ctx, spec, base, data, int(d.Step), agreed, d.Agreed)
				if err != nil {
					t.Fatal(err)
				}
				txs = append(txs, n.nodes[d.Referee].Bisect(id, d.Step, ref))
			}
		}
		out.events = append(out.events, n.block(txs...)...)
	}
	t.Fatal("training task not settled in 100 blocks")
	return out
}

// firstDivergence returns the first step after which a run with opt, from the state at step
// 0, differs from an honest one (what the bisection must find, computed step by step).
func firstDivergence(t *testing.T, spec Spec, data *Dataset, init []byte, opt Options, honest *Replayer) int {
	t.Helper()
	ctx := context.Background()
	c := NewReplayer(spec, data, init, opt)
	if _, err := c.StateDigest(ctx, spec.Steps); err != nil {
		t.Fatal(err)
	}
	if _, err := honest.StateDigest(ctx, spec.Steps); err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= spec.Steps; s++ {
		a, _ := c.StateDigest(ctx, s)
		b, _ := honest.StateDigest(ctx, s)
		if a != b {
			return s
		}
	}
	t.Fatal("the cheat never diverges")
	return 0
}

// TestTrainingTaskOnLedger runs textual-inversion training tasks through the ledger's segment
// protocol on four nodes with different profiles: the honest trainer is accepted and paid;
// each cheater is rejected and slashed for lying, its verifier's rejection gives the cheat's
// own reason, and the bisection ends at the exact step where the cheater's run diverged from
// an honest one (found independently, step by step).
func TestTrainingTaskOnLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and re-executes seven tiny runs")
	}
	base, data := tinyBase(t), Synthetic(12, 1)
	spec := tinySpec(base, data, MethodTI)
	spec.Steps, spec.Every = 12, 4
	honest := mustTrain(t, spec, base, data, Options{})
	tol := calibrate(t, honest, data)
	model := ledger.Model{Name: "base", Digest: base.Digest}
	profs := profiles(t, "ampere-fp16", "hopper-bf16", "cpu-avx512", "turing-fp16acc")
	honestReplay := NewReplayer(spec, data, honest.Checkpoints[0].State, Options{})

	otherData := Synthetic(12, 2)
	for i := range otherData.Images {
		otherData.Images[i] = 255 - otherData.Images[i]
	}
	otherSpec := spec
	otherSpec.Dataset = otherData.Digest()
	copied := Copy(spec, mustTrain(t, otherSpec, base, otherData, Options{}))

	for _, tc := range []struct {
		name   string
		cheat  Cheat
		series *Series // nil: trained with cheat
		reason string  // a verifier's rejection contains it
	}{
		{"honest", Cheat{}, honest, ""},
		{"skip-steps", Cheat{Kind: SkipSteps, From: 4}, nil, "re-executed"},
		{"fewer-steps", Cheat{Kind: FewerSteps, From: 4}, nil, "checkpoint 2 records step 4, committed at step 8"},
		{"other-lr", Cheat{Kind: OtherLR, LR: 0.02}, nil, "re-executed"},
		{"other-seed", Cheat{Kind: OtherSeed, Seed: 4}, nil, "re-executed"},
		{"noise-weights", Cheat{Kind: NoiseWeights, From: 6, Noise: 0.01, Seed: 1}, nil, "re-executed"},
		{"copy", Cheat{Kind: CopySeries}, copied, "re-executed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newLedgerNet(t, model, profs)
			tr := trainer{series: tc.series}
			if tc.cheat.Kind != CopySeries {
				tr.opt.Cheat = tc.cheat
			}
			if tr.series == nil {
				tr.series = mustTrain(t, spec, base, data, tr.opt)
			}
			out := n.run(spec, base, data, tr, 1, spec.Segments(), tol)
			task, d := out.task, out.task.Dispute
			slashed := map[ledger.PubKey][]string{}
			for _, e := range out.events {
				if e.Type == ledger.EventSlash {
					slashed[e.Node] = append(slashed[e.Node], e.Reason)
				}
			}
			if tc.cheat.Kind == None {
				if task.Status != ledger.StatusAccepted || d != nil || len(slashed) != 0 || len(out.reasons) != 0 {
					t.Fatalf("honest: status %s reason %q dispute %+v slashes %v rejections %q", task.Status, task.Reason, d, slashed, out.reasons)
				}
				acct, _ := n.st.Node(task.Executors[0].Node)
				if acct.Record.Earned == 0 {
					t.Error("honest trainer not paid")
				}
				return
			}
			if task.Status != ledger.StatusNoVerdict || d == nil || !d.TrainerLied || d.ChallengerLied {
				t.Fatalf("status %s reason %q dispute %+v", task.Status, task.Reason, d)
			}
			if got := slashed[task.Executors[0].Node]; len(got) != 1 || got[0] != ledger.ReasonLied {
				t.Errorf("trainer slashes %q", got)
			}
			if got := slashed[task.Executors[d.Challenger].Node]; len(got) != 0 {
				t.Errorf("honest challenger slashed %q", got)
			}
			if !strings.Contains(strings.Join(out.reasons, "; "), tc.reason) {
				t.Errorf("verifier's rejections %q lack %q", out.reasons, tc.reason)
			}
			want := 0
			if tc.cheat.Kind == CopySeries {
				// The copier answers by replaying the task from its copied checkpoint k: it agrees
				// with the challenger inside the segment, and checkpoint k+1 does not follow.
				want = int(d.Segment+1) * spec.Every
				if tr.series.Checkpoints[0].Digest != honest.Checkpoints[0].Digest {
					want = 0
				}
			} else {
				want = firstDivergence(t, spec, data, honest.Checkpoints[0].State, tr.opt, honestReplay)
			}
			if int(d.Step) != want {
				t.Errorf("bisection ended at step %d (segment %d, %d rounds), the trainer diverged at step %d", d.Step, d.Segment, d.Rounds, want)
			}
			t.Logf("%s: rejected at step %d (segment %d, %d rounds): %s; verifier: %s", tc.name, d.Step, d.Segment, d.Rounds,
				task.Reason, out.reasons[0])
		})
	}
}
