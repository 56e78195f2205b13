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

func newCheckNet(t *testing.T) *checkNet {
	n := &checkNet{t: t, client: ledger.NewSigner(key("client"), checkChain), cache: ledger.NewSigCache(checkChain, 1024),
		model: ledger.Model{Name: "tiny-llama", Digest: sha256.Sum256([]byte("weights"))}}
	g := ledger.Genesis{ChainID: checkChain, Params: ledger.DefaultParams(),
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

func (n *checkNet) block(txs ...[]byte) ledger.BlockResult {
	n.t.Helper()
	n.height++
	res, err := n.st.FinalizeBlock(ledger.Block{Height: n.height, Rand: sha256.Sum256([]byte{byte(n.height)}), Txs: txs}, n.cache)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.st.Commit(); err != nil {
		n.t.Fatal(err)
	}
	for i, r := range res.TxResults {
		if r.Code != 0 {
			n.t.Fatalf("height %d tx %d: code %d: %s", n.height, i, r.Code, r.Err)
		}
	}
	return res
}

// run submits a score-verified task, commits and reveals fps[i] for node i, then sends the
// votes (node i judges valid the fingerprints votes[i] lists; nil is no vote) and ends the
// check window. It returns the settled task and every event.
func (n *checkNet) run(fps [][]byte, votes [][][]byte) (ledger.Task, []ledger.Event) {
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
	var vs [][]byte
	if task, _ := n.st.Task(id); task.Status == ledger.StatusCheck {
		cands, _ := ledger.Candidates(&task)
		for i, s := range n.nodes {
			if votes[i] == nil {
				continue
			}
			var mask uint64
			for k, c := range cands {
				for _, v := range votes[i] {
					if string(v) == string(c) {
						mask |= 1 << k
					}
				}
			}
			vs = append(vs, s.Vote(id, mask))
		}
	}
	if len(vs) > 0 {
		collect(n.block(vs...))
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
// revealer slashed for not voting.
func TestScoreCheck(t *testing.T) {
	a, a2, b := fp(1), fp(2), fp(3)
	for _, tt := range []struct {
		name      string
		fps       [][]byte
		votes     [][][]byte // per node: the fingerprints it finds valid (nil: no vote)
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
		{"honest drift", [][]byte{a, a, a2}, [][][]byte{{a, a2}, {a, a2}, {a, a2}}, 1, ledger.StatusAccepted, a,
			"agreed agreed agreed ", 0, 3},
		// Node b ran a substitute model: the honest verifiers reject its sequence, it
		// votes for itself in vain.
		{"substitute", [][]byte{a, b, a}, [][][]byte{{a}, {a, b}, {a}}, 1, ledger.StatusAccepted, a,
			"agreed outlier agreed ", 1, 2},
		// Node c does not vote: slashed, not paid; a and b still make the majority of 3.
		{"no vote", [][]byte{a, a2, a}, [][][]byte{{a, a2}, {a, a2}, nil}, 1, ledger.StatusAccepted, a,
			"agreed agreed no-vote ", 1, 2},
		// Each node finds only its own sequence valid: every candidate has 1 vote of the 2
		// needed, so there is no verdict and every revealer is an outlier.
		{"all invalid", [][]byte{a, b, a2}, [][][]byte{{a}, {b}, {a2}}, 1, ledger.StatusNoVerdict, nil,
			"outlier outlier outlier ", 3, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newCheckNet(t)
			task, events := n.run(tt.fps, tt.votes)
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

// TestVoteRules rejects votes outside a check round, from a non-executor, twice, or naming a
// candidate that does not exist.
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
	early := n.nodes[0].Vote(id, 1)
	if _, err := n.st.CheckTx(early, n.cache); err != nil {
		t.Fatalf("CheckTx of a vote on an open task: %v", err)
	}
	tryBlock := func(tx []byte) error {
		n.height++
		res, err := n.st.FinalizeBlock(ledger.Block{Height: n.height, Rand: sha256.Sum256([]byte{byte(n.height)}), Txs: [][]byte{tx}}, n.cache)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.st.Commit(); err != nil {
			t.Fatal(err)
		}
		if c := res.TxResults[0].Code; c != 0 {
			return fmt.Errorf("code %d: %s", c, res.TxResults[0].Err)
		}
		return nil
	}
	if err := tryBlock(early); err == nil || ledger.Code(ledger.ErrCheck) != codeOf(err) {
		t.Errorf("vote before the check round: %v, want code %d", err, ledger.Code(ledger.ErrCheck))
	}
	n.block(reveals...)
	if task, _ := n.st.Task(id); task.Status != ledger.StatusCheck {
		t.Fatalf("status %s, want check", task.Status)
	}
	if err := tryBlock(n.nodes[0].Vote(id, 0b100)); err == nil {
		t.Error("a vote naming candidate 2 of 2 was accepted")
	}
	if err := tryBlock(n.client.Vote(id, 1)); err == nil {
		t.Error("a vote from a non-executor was accepted")
	}
	if err := tryBlock(n.nodes[0].Vote(id, 0b01)); err != nil {
		t.Fatal(err)
	}
	if err := tryBlock(n.nodes[0].Vote(id, 0b01)); err == nil {
		t.Error("a second vote was accepted")
	}
	if !errors.Is(ledger.ErrCheck, ledger.ErrCheck) {
		t.Fatal("unreachable")
	}
}

func codeOf(err error) uint32 {
	var c uint32
	fmt.Sscanf(err.Error(), "code %d", &c)
	return c
}
