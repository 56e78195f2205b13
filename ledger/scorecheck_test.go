package ledger_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

// checkNet is a ledger with a client and three nodes serving one text model, driven block by
// block.
type checkNet struct {
	t      *testing.T
	st     *ledger.State
	cache  *ledger.SigCache
	height uint64
	client *ledger.Signer
	nodes  []*ledger.Signer
	model  ledger.Model
}

const checkChain = "check"

func newCheckNet(t *testing.T, params ...func(*ledger.Params)) *checkNet {
	n := &checkNet{t: t, client: ledger.NewSigner(key("client"), checkChain), cache: ledger.NewSigCache(checkChain, 1024),
		model: ledger.Model{Name: "tiny-llama", Digest: sha256.Sum256([]byte("weights"))}}
	p := ledger.DefaultParams()
	for _, f := range params {
		f(&p)
	}
	g := ledger.Genesis{ChainID: checkChain, Params: p,
		Accounts: []ledger.GenesisAccount{{Key: n.client.Key(), Balance: 10000}}}
	for _, name := range []string{"a", "b", "c"} {
		s := ledger.NewSigner(key(name), checkChain)
		n.nodes = append(n.nodes, s)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Key: s.Key(), Balance: 1000})
	}
	st, err := ledger.New(g)
	if err != nil {
		t.Fatal(err)
	}
	n.st = st
	var reg [][]byte
	for _, s := range n.nodes {
		reg = append(reg, s.RegisterNode(ledger.RegisterNode{Stake: 1000, Models: []ledger.Model{n.model}}))
	}
	n.block(reg...)
	return n
}

// apply finalizes and commits the next block, of txs.
func (n *checkNet) apply(txs ...[]byte) ledger.BlockResult {
	n.t.Helper()
	n.height++
	res, err := n.st.FinalizeBlock(ledger.Block{Height: n.height, Rand: sha256.Sum256([]byte{byte(n.height)}), Txs: txs}, n.cache)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.st.Commit(); err != nil {
		n.t.Fatal(err)
	}
	return res
}

// block applies the next block, of txs, each of which must be applied.
func (n *checkNet) block(txs ...[]byte) ledger.BlockResult {
	n.t.Helper()
	res := n.apply(txs...)
	for i, r := range res.TxResults {
		if r.Code != 0 {
			n.t.Fatalf("height %d tx %d: code %d: %s", n.height, i, r.Code, r.Err)
		}
	}
	return res
}

// ballot is one node's vote in a check round: the fingerprints it finds valid and those it is
// unsure about. skip: it commits no vote; hide: it commits a vote and never reveals it.
type ballot struct {
	valid, unsure [][]byte
	skip, hide    bool
}

// yes returns a ballot finding fps valid.
func yes(fps ...[]byte) ballot { return ballot{valid: fps} }

var noVote = ballot{skip: true}

func maskOf(cands, fps [][]byte) uint64 {
	var m uint64
	for k, c := range cands {
		for _, v := range fps {
			if string(v) == string(c) {
				m |= 1 << k
			}
		}
	}
	return m
}

// run submits a score-verified task, commits and reveals fps[i] for node i, then, if a check
// round opened, commits the ballots in one block and reveals them in the next, and ends the
// check window. It returns the settled task and every event.
func (n *checkNet) run(fps [][]byte, ballots []ballot) (ledger.Task, []ledger.Event) {
	n.t.Helper()
	submit, id := n.client.SubmitTask(ledger.SubmitTask{Kind: "text", Model: n.model, Prompt: []byte("Once upon a time"),
		Seed: 7, Replicas: 3, Rule: quorum.Majority, FingerprintLen: 32, Fee: 300, Verify: ledger.VerifyScore})
	var events []ledger.Event
	collect := func(r ledger.BlockResult) {
		for _, tx := range r.TxResults {
			events = append(events, tx.Events...)
		}
		events = append(events, r.Events...)
	}
	collect(n.block(submit))
	var salt [32]byte
	var commits, reveals [][]byte
	for i, s := range n.nodes {
		commits = append(commits, s.Commit(id, fps[i], salt))
		reveals = append(reveals, s.Reveal(id, fps[i], salt, [32]byte{byte(i)}))
	}
	collect(n.block(commits...))
	collect(n.block(reveals...))
	if task, _ := n.st.Task(id); task.Status == ledger.StatusCheck {
		cands, _ := ledger.Candidates(&task)
		var vc, vr [][]byte
		for i, s := range n.nodes {
			b := ballots[i]
			if b.skip {
				continue
			}
			vsalt := [32]byte{byte(i), 1}
			valid, unsure := maskOf(cands, b.valid), maskOf(cands, b.unsure)
			vc = append(vc, s.VoteCommit(id, valid, unsure, vsalt))
			if !b.hide {
				vr = append(vr, s.VoteReveal(id, valid, unsure, vsalt))
			}
		}
		if len(vc) > 0 {
			collect(n.block(vc...))
		}
		for range ledger.DefaultParams().RevealWindow + 1 {
			if t, _ := n.st.Task(id); t.Status != ledger.StatusCheck {
				break
			}
			collect(n.block())
		}
		if t, _ := n.st.Task(id); t.Status == ledger.StatusCheckReveal && len(vr) > 0 {
			collect(n.block(vr...))
		}
	}
	for range ledger.DefaultParams().RevealWindow + 1 {
		if t, _ := n.st.Task(id); t.Status.Settled() {
			break
		}
		collect(n.block())
	}
	t, _ := n.st.Task(id)
	return t, events
}

func fp(b byte) []byte {
	h := sha256.Sum256([]byte{b})
	return h[:]
}

// outcomes lists the nodes' outcomes in node order.
func (n *checkNet) outcomes(t ledger.Task) string {
	s := ""
	for _, nd := range n.nodes {
		for _, x := range t.Executors {
			if x.Node == nd.Key() {
				s += x.Outcome.String() + " "
			}
		}
	}
	return s
}

func count(events []ledger.Event, typ ledger.EventType) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestScoreCheck settles score-verified text tasks: equal sequences on the fast path, an
// honest near-tie flip accepted and paid after the check round, a substitute slashed, a silent
// revealer slashed for not voting, a voter contradicting the verdict slashed, an abstainer not
// paid.
func TestScoreCheck(t *testing.T) {
	a, a2, b := fp(1), fp(2), fp(3)
	for _, tt := range []struct {
		name      string
		fps       [][]byte
		ballots   []ballot
		checkOpen int
		status    ledger.TaskStatus
		value     []byte
		outcomes  string
		slashes   int
		rewards   int
	}{
		{"equal: fast path", [][]byte{a, a, a}, nil, 0, ledger.StatusAccepted, a, "agreed agreed agreed ", 0, 3},
		// Node c's hardware flipped a near-tied token: every verifier finds both sequences
		// within the margin, so all three are paid.
		{"honest drift", [][]byte{a, a, a2}, []ballot{yes(a, a2), yes(a, a2), yes(a, a2)}, 1, ledger.StatusAccepted, a,
			"agreed agreed agreed ", 0, 3},
		// Node b ran a substitute model: the honest verifiers reject its sequence, it
		// votes for itself in vain (an outlier, slashed once).
		{"substitute", [][]byte{a, b, a}, []ballot{yes(a), yes(a, b), yes(a)}, 1, ledger.StatusAccepted, a,
			"agreed outlier agreed ", 1, 2},
		// Node c commits no vote: slashed, not paid; a and b still make the majority of 3.
		{"no vote", [][]byte{a, a2, a}, []ballot{yes(a, a2), yes(a, a2), noVote}, 1, ledger.StatusAccepted, a,
			"agreed agreed no-vote ", 1, 2},
		// Node c commits a vote and never opens it: the same.
		{"hidden vote", [][]byte{a, a2, a}, []ballot{yes(a, a2), yes(a, a2), {valid: [][]byte{a, a2}, hide: true}}, 1,
			ledger.StatusAccepted, a, "agreed agreed no-vote ", 1, 2},
		// Node b skips its checks and votes only its own sequence valid: a2 (an honest flip)
		// is determined valid by a and c, so b's vote is contrary: slashed and not paid,
		// although its own output is valid (it still counts towards the verdict's support).
		{"contrary voter", [][]byte{a, a, a2}, []ballot{yes(a, a2), yes(a), yes(a, a2)}, 1, ledger.StatusAccepted, a,
			"agreed contrary agreed ", 1, 2},
		// A lazy voter that marks everything valid is contrary when a substitute is rejected.
		{"lazy all-valid voter", [][]byte{a, a, b}, []ballot{yes(a), yes(a, b), {valid: [][]byte{a}}}, 1, ledger.StatusAccepted, a,
			"agreed contrary outlier ", 2, 1},
		// Node a's check of a2 landed in the band next to the tolerance: it abstains. a2 is
		// determined valid by b and c; a is neither paid nor slashed.
		{"abstained", [][]byte{a, a, a2}, []ballot{{valid: [][]byte{a}, unsure: [][]byte{a2}}, yes(a, a2), yes(a, a2)}, 1,
			ledger.StatusAccepted, a, "abstained agreed agreed ", 0, 2},
		// Honest near-edge disagreement: a is unsure about b's sequence, c's vote for its own
		// substitute is the only firm one for it, b finds it invalid: b's candidate stays
		// undetermined (1 vote each way, 2 needed), so nobody is contrary and the substitute
		// is undecided (not paid, not slashed); a and b are paid.
		{"undetermined candidate", [][]byte{a, a, b}, []ballot{{valid: [][]byte{a}, unsure: [][]byte{b}}, yes(a), yes(a, b)}, 1,
			ledger.StatusAccepted, a, "agreed agreed undecided ", 0, 2},
		// Each node finds only its own sequence valid: every candidate has 1 vote of the 2
		// needed and 2 against, so there is no verdict and every revealer is an outlier.
		{"all invalid", [][]byte{a, b, a2}, []ballot{yes(a), yes(b), yes(a2)}, 1, ledger.StatusNoVerdict, nil,
			"outlier outlier outlier ", 3, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newCheckNet(t)
			task, events := n.run(tt.fps, tt.ballots)
			if got := count(events, ledger.EventCheckOpen); got != tt.checkOpen {
				t.Errorf("%d check rounds opened, want %d", got, tt.checkOpen)
			}
			if task.Status != tt.status || string(task.Value) != string(tt.value) {
				t.Errorf("status %s value %x, want %s %x", task.Status, task.Value, tt.status, tt.value)
			}
			if got := n.outcomes(task); got != tt.outcomes {
				t.Errorf("outcomes %q, want %q", got, tt.outcomes)
			}
			if got := count(events, ledger.EventSlash); got != tt.slashes {
				t.Errorf("%d slashes, want %d", got, tt.slashes)
			}
			if got := count(events, ledger.EventReward); got != tt.rewards {
				t.Errorf("%d rewards, want %d", got, tt.rewards)
			}
			// The state with a check round restores to the same app hash.
			back, err := ledger.UnmarshalState(n.st.MarshalState())
			if err != nil || back.AppHash() != n.st.AppHash() {
				t.Errorf("restored state: %v, app hash %x want %x", err, back.AppHash(), n.st.AppHash())
			}
		})
	}
}

// TestVoteRules: votes are committed, then revealed. It rejects vote commitments outside a
// check round, from a non-executor or twice; vote reveals before the commitments closed, in
// the block that closed them, without a commitment, not opening it, naming a candidate that
// does not exist, or twice; and a vote marking a candidate both valid and unsure. A state in
// the middle of a check round restores to the same app hash and settles the same way.
func TestVoteRules(t *testing.T) {
	n := newCheckNet(t)
	submit, id := n.client.SubmitTask(ledger.SubmitTask{Kind: "text", Model: n.model, Prompt: []byte("x"),
		Seed: 1, Replicas: 3, Rule: quorum.Majority, FingerprintLen: 32, Fee: 300, Verify: ledger.VerifyScore})
	n.block(submit)
	var salt [32]byte
	fps := [][]byte{fp(1), fp(1), fp(2)}
	var commits, reveals [][]byte
	for i, s := range n.nodes {
		commits = append(commits, s.Commit(id, fps[i], salt))
		reveals = append(reveals, s.Reveal(id, fps[i], salt, [32]byte{}))
	}
	n.block(commits...)
	vsalt := [32]byte{42}
	early := n.nodes[0].VoteCommit(id, 1, 0, vsalt)
	if _, err := n.st.CheckTx(early, n.cache); err != nil {
		t.Fatalf("CheckTx of a vote commitment on an open task: %v", err)
	}
	// block applies txs in one block and returns each one's error.
	var twin *ledger.State // a restored copy that follows every block
	block := func(txs ...[]byte) []error {
		n.height++
		blk := ledger.Block{Height: n.height, Rand: sha256.Sum256([]byte{byte(n.height)}), Txs: txs}
		res, err := n.st.FinalizeBlock(blk, n.cache)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.st.Commit(); err != nil {
			t.Fatal(err)
		}
		if twin != nil {
			r2, err := twin.FinalizeBlock(blk, nil)
			if err != nil || twin.Commit() != nil || r2.AppHash != res.AppHash {
				t.Fatalf("restored twin at height %d: %v, app hash %x want %x", n.height, err, r2.AppHash, res.AppHash)
			}
		}
		errs := make([]error, len(txs))
		for i, r := range res.TxResults {
			if r.Code != 0 {
				errs[i] = fmt.Errorf("code %d: %w", r.Code, r.Err)
			}
		}
		return errs
	}
	wantCheck := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ledger.ErrCheck) {
			t.Errorf("%s: %v, want ErrCheck", what, err)
		}
	}
	wantOK := func(errs []error) {
		t.Helper()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	wantCheck("vote commitment before the check round", block(early)[0])
	n.block(reveals...)
	if task, _ := n.st.Task(id); task.Status != ledger.StatusCheck {
		t.Fatalf("status %s, want check", task.Status)
	}
	if _, err := ledger.DecodeTx(n.nodes[0].VoteReveal(id, 1, 1, vsalt)); !errors.Is(err, ledger.ErrMalformedTx) {
		t.Errorf("a vote both valid and unsure on candidate 0: %v, want ErrMalformedTx", err)
	}
	errs := block(n.nodes[0].VoteReveal(id, 0b01, 0, vsalt), n.client.VoteCommit(id, 1, 0, vsalt),
		n.nodes[0].VoteCommit(id, 0b01, 0, vsalt), n.nodes[0].VoteCommit(id, 0b11, 0, vsalt))
	wantCheck("vote reveal during vote commitments", errs[0])
	if !errors.Is(errs[1], ledger.ErrNotAssigned) {
		t.Errorf("a vote commitment from a non-executor: %v, want ErrNotAssigned", errs[1])
	}
	wantOK(errs[2:3])
	wantCheck("a second vote commitment", errs[3])
	// Snapshot in the middle of the round: the restored state must agree from here on.
	twin, err := ledger.UnmarshalState(n.st.MarshalState())
	if err != nil || twin.AppHash() != n.st.AppHash() {
		t.Fatalf("restored mid-check state: %v", err)
	}
	// Nodes 1 and 2 commit; the commitments close in this block, so a reveal in it fails.
	errs = block(n.nodes[1].VoteCommit(id, 0b11, 0, vsalt), n.nodes[2].VoteCommit(id, 0b11, 0, vsalt),
		n.nodes[0].VoteReveal(id, 0b01, 0, vsalt))
	wantOK(errs[:2])
	wantCheck("vote reveal in the block that closed the commitments", errs[2])
	if task, _ := n.st.Task(id); task.Status != ledger.StatusCheckReveal {
		t.Fatalf("status %s, want check-reveal", task.Status)
	}
	errs = block(n.nodes[0].VoteReveal(id, 0b11, 0, vsalt), n.nodes[0].VoteReveal(id, 0b100, 0, vsalt),
		n.nodes[0].VoteCommit(id, 0b01, 0, vsalt), n.nodes[0].VoteReveal(id, 0b01, 0, vsalt), n.nodes[0].VoteReveal(id, 0b01, 0, vsalt))
	wantCheck("vote not opening its commitment", errs[0])
	wantCheck("vote naming candidate 2 of 2", errs[1])
	wantCheck("vote commitment after they closed", errs[2])
	wantOK(errs[3:4])
	wantCheck("a second vote", errs[4])
	wantOK(block(n.nodes[1].VoteReveal(id, 0b11, 0, vsalt), n.nodes[2].VoteReveal(id, 0b11, 0, vsalt)))
	task, _ := n.st.Task(id)
	if got := n.outcomes(task); task.Status != ledger.StatusAccepted || got != "contrary agreed agreed " {
		t.Errorf("status %s outcomes %q, want accepted, contrary agreed agreed", task.Status, got)
	}
}

// TestNoVoteDeferredWithJailing: with jailing on, an executor that revealed but gave no vote
// in the check round is treated as a missed reveal (it may have died in between): its slash
// is deferred, not charged in the settling block, and charged when its next transaction
// shows it alive. Without jailing it is slashed at once (the "no vote" case of
// TestScoreCheck).
func TestNoVoteDeferredWithJailing(t *testing.T) {
	n := newCheckNet(t, func(p *ledger.Params) { p.JailAfterMisses, p.SlashJailBPS = 3, 100 })
	a, a2 := fp(1), fp(2)
	task, events := n.run([][]byte{a, a2, a}, []ballot{yes(a, a2), yes(a, a2), noVote})
	if task.Status != ledger.StatusAccepted {
		t.Fatalf("status %s", task.Status)
	}
	c := n.nodes[2].Key()
	deferred := 0
	for _, e := range events {
		switch {
		case e.Node != c:
		case e.Type == ledger.EventSlash:
			t.Errorf("non-voter slashed at settlement: %+v", e)
		case e.Type == ledger.EventSlashDeferred && e.Reason == ledger.ReasonNoVote:
			deferred++
		}
	}
	if deferred != 1 {
		t.Fatalf("%d deferred no-vote slashes, want 1", deferred)
	}
	n.block(n.client.Transfer(c, 10)) // the client's transaction: no sign of life of c
	res := n.block(n.nodes[2].Transfer(n.client.Key(), 1))
	var charged uint64
	for _, e := range res.TxResults[0].Events {
		if e.Type == ledger.EventSlash && e.Node == c {
			charged += e.Amount
		}
	}
	if want := uint64(1000) * uint64(ledger.DefaultParams().SlashNoRevealBPS) / 10000; charged != want {
		t.Errorf("charged %d at the non-voter's next transaction, want %d", charged, want)
	}
}
