package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

// sim drives a ledger with random traffic: honest and misbehaving executors, garbage,
// replays, transfers and stake changes. It is deterministic for a given seed, and builds each
// block from the state left by the previous one (as a real network would).
type sim struct {
	rng      *rand.Rand
	st       *State
	nodes    []*Signer
	clients  []*Signer
	byKey    map[PubKey]*Signer
	history  [][]byte
	later    map[uint64][]pendingTx // height -> transactions to send then
	secrets  map[[64]byte]secret    // task||node -> what was committed
	tasks    map[TaskID]*TaskIDInfo
	accepted int
}

type TaskIDInfo struct{ fplen int }

type pendingTx struct {
	node  *Signer
	task  TaskID
	round uint8
	kind  TxType
}

type secret struct {
	fp    []byte
	salt  [32]byte
	valid bool // false: the node "forgets" and reveals garbage
}

var simModels = []Model{modelFor("m1"), modelFor("m2")}

func simGenesis(nNodes, nClients int, opts ...func(*Params)) (Genesis, []*Signer, []*Signer) {
	g := Genesis{ChainID: "sim", Params: DefaultParams()}
	g.Params.CommitWindow, g.Params.RevealWindow = 2, 2
	for _, o := range opts {
		o(&g.Params)
	}
	mk := func(prefix string, i int) *Signer {
		seed := sha256.Sum256([]byte(fmt.Sprintf("sim %s %d", prefix, i)))
		return NewSigner(ed25519.NewKeyFromSeed(seed[:]), g.ChainID)
	}
	var nodes, clients []*Signer
	for i := range nNodes {
		s := mk("node", i)
		nodes = append(nodes, s)
		g.Accounts = append(g.Accounts, GenesisAccount{Key: s.Key(), Balance: 1_000_000})
	}
	for i := range nClients {
		s := mk("client", i)
		clients = append(clients, s)
		g.Accounts = append(g.Accounts, GenesisAccount{Key: s.Key(), Balance: 1_000_000_000})
	}
	return g, nodes, clients
}

func newSim(t testing.TB, seed uint64, nNodes, nClients int, opts ...func(*Params)) *sim {
	g, nodes, clients := simGenesis(nNodes, nClients, opts...)
	st, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	m := &sim{rng: rand.New(rand.NewPCG(seed, 7)), st: st, nodes: nodes, clients: clients,
		byKey: map[PubKey]*Signer{}, later: map[uint64][]pendingTx{}, secrets: map[[64]byte]secret{},
		tasks: map[TaskID]*TaskIDInfo{}}
	for _, s := range append(slices.Clone(nodes), clients...) {
		m.byKey[s.Key()] = s
	}
	return m
}

func secretKey(task TaskID, node PubKey) (k [64]byte) {
	copy(k[:], task[:])
	copy(k[32:], node[:])
	return k
}

// nextBlock returns the next block's transactions.
func (m *sim) nextBlock() Block {
	h := m.st.Height() + 1
	var txs [][]byte
	add := func(raw []byte) { txs = append(txs, raw) }
	if h == 1 {
		for i, n := range m.nodes {
			models := []Model{simModels[i%2]}
			if i%3 == 0 {
				models = simModels
			}
			add(n.RegisterNode(RegisterNode{Stake: 100 + uint64(m.rng.IntN(900)), Models: models, Engines: []string{"sim"}}))
		}
	}
	// New tasks.
	for range m.rng.IntN(6) {
		c := m.clients[m.rng.IntN(len(m.clients))]
		if m.rng.IntN(10) == 0 { // a node submits: it must not be chosen for its own task
			c = m.nodes[m.rng.IntN(len(m.nodes))]
		}
		n := 1 + m.rng.IntN(4)
		spec := SubmitTask{Kind: "image", Model: simModels[m.rng.IntN(2)], Prompt: []byte("p"),
			Seed: m.rng.Uint64(), Replicas: uint32(n), Tolerance: uint32(m.rng.IntN(3)),
			Rule: quorum.Rule(1 + m.rng.IntN(2)), FingerprintLen: 2, Fee: uint64(m.rng.IntN(1000))}
		if m.rng.IntN(3) == 0 {
			spec.MaxReplicas = uint32(2*n + 1)
		}
		raw, id := c.SubmitTask(spec)
		m.tasks[id] = &TaskIDInfo{fplen: 2}
		add(raw)
	}
	// Commits and reveals scheduled by earlier events.
	for _, p := range m.later[h] {
		t, ok := m.st.Task(p.task)
		if !ok || t.Round != p.round {
			continue
		}
		k := secretKey(p.task, p.node.Key())
		sec := m.secrets[k]
		switch p.kind {
		case TxCommit:
			r := m.rng.IntN(100)
			truth := sha256.Sum256(p.task[:])
			sec = secret{fp: slices.Clone(truth[:2]), valid: true}
			fill(m.rng, sec.salt[:])
			switch {
			case r < 10: // lazy: never commits
				continue
			case r < 20: // outlier
				sec.fp[0] ^= 0xff
			case r < 30: // within a bit
				sec.fp[1] ^= 1
			case r < 35: // copies someone's commitment if one is known
				for _, x := range t.Executors {
					if x.Committed {
						add(p.node.Sign(&Commit{Task: p.task, Commitment: x.Commitment}))
						m.secrets[k] = secret{fp: sec.fp, salt: sec.salt, valid: false}
						break
					}
				}
				continue
			case r < 40: // will not reveal
				sec.valid = false
			}
			m.secrets[k] = sec
			add(p.node.Commit(p.task, sec.fp, sec.salt))
		case TxReveal:
			if !sec.valid {
				if m.rng.IntN(2) == 0 && sec.fp != nil {
					add(p.node.Reveal(p.task, sec.fp, sec.salt, [32]byte{})) // does not open a copied commitment
				}
				continue
			}
			if m.rng.IntN(10) == 0 { // a wrong opening first
				bad := slices.Clone(sec.fp)
				bad[0]++
				add(p.node.Reveal(p.task, bad, sec.salt, [32]byte{}))
			}
			add(p.node.Reveal(p.task, sec.fp, sec.salt, [32]byte{}))
		}
	}
	delete(m.later, h)
	// Garbage, replays, tampering, money and stake.
	for range m.rng.IntN(4) {
		switch m.rng.IntN(8) {
		case 7: // a node commits to an open task it was not assigned
			n := m.nodes[m.rng.IntN(len(m.nodes))]
			for _, id := range sortedKeys(m.tasks) {
				if t, ok := m.st.Task(id); ok && t.SettledAt == 0 && t.executor(n.Key()) < 0 {
					add(n.Commit(id, []byte{1, 2}, [32]byte{}))
					break
				}
			}
		case 0:
			b := make([]byte, m.rng.IntN(200))
			fill(m.rng, b)
			add(b)
		case 1, 2:
			if len(m.history) > 0 {
				add(m.history[m.rng.IntN(len(m.history))])
			}
		case 3:
			if len(m.history) > 0 {
				b := slices.Clone(m.history[m.rng.IntN(len(m.history))])
				b[m.rng.IntN(len(b))] ^= byte(1 + m.rng.IntN(255))
				add(b)
			}
		case 4:
			a, b := m.clients[m.rng.IntN(len(m.clients))], m.nodes[m.rng.IntN(len(m.nodes))]
			add(a.Transfer(b.Key(), uint64(1+m.rng.IntN(1000))))
		case 5:
			n := m.nodes[m.rng.IntN(len(m.nodes))]
			add(n.Unbond(uint64(1 + m.rng.IntN(300))))
		case 6:
			n := m.nodes[m.rng.IntN(len(m.nodes))]
			add(n.RegisterNode(RegisterNode{Stake: uint64(m.rng.IntN(200)), Models: simModels[:1+m.rng.IntN(2)]}))
		}
	}
	// A little reordering: a transaction may overtake another (nonces then fail).
	if len(txs) > 1 && m.rng.IntN(4) == 0 {
		i, j := m.rng.IntN(len(txs)), m.rng.IntN(len(txs))
		txs[i], txs[j] = txs[j], txs[i]
	}
	m.history = append(m.history, txs...)
	var rnd [32]byte
	fill(m.rng, rnd[:])
	return Block{Height: h, Rand: rnd, Txs: txs}
}

// delay returns in how many blocks an executor answers: 1 mostly, 3 (too late) sometimes.
func (m *sim) delay() uint64 {
	switch r := m.rng.IntN(10); {
	case r < 7:
		return 1
	case r < 9:
		return 2
	}
	return 3
}

// observe schedules the executors' reactions to a block's events.
func (m *sim) observe(res BlockResult) {
	var events []Event
	for _, r := range res.TxResults {
		if r.Code == 0 {
			m.accepted++
		}
		events = append(events, r.Events...)
	}
	events = append(events, res.Events...)
	h := m.st.Height()
	for _, e := range events {
		switch e.Type {
		case EventTaskAssigned:
			for _, k := range e.Nodes {
				at := h + m.delay() // may miss the window
				m.later[at] = append(m.later[at], pendingTx{node: m.byKey[k], task: e.Task, round: e.Round, kind: TxCommit})
			}
		case EventRevealOpen:
			t, _ := m.st.Task(e.Task)
			for _, x := range t.Executors {
				if x.Committed {
					at := h + m.delay()
					m.later[at] = append(m.later[at], pendingTx{node: m.byKey[x.Node], task: e.Task, round: e.Round, kind: TxReveal})
				}
			}
		}
	}
}

// run finalizes and commits n blocks, calling check after each.
func (m *sim) run(t testing.TB, n int, check func(b Block, res BlockResult)) {
	t.Helper()
	for range n {
		b := m.nextBlock()
		res, err := m.st.FinalizeBlock(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.st.Commit(); err != nil {
			t.Fatal(err)
		}
		m.observe(res)
		if check != nil {
			check(b, res)
		}
	}
}

// TestReplaySameAppHash: two ledgers fed the same blocks reach the same app hash at every
// height; a third restored from MarshalState half-way continues to the same hashes; the
// incremental app hash always equals the one recomputed from scratch.
func TestReplaySameAppHash(t *testing.T) {
	jailing := func(p *Params) { p.JailAfterMisses, p.SlashJailBPS = 3, 100 }
	t.Run("per-task slashes", func(t *testing.T) { testReplaySameAppHash(t) })
	// With jailing, missed reveals are deferred, charged and waived (downtime_test.go): the
	// same checks hold, and the traffic must reach those paths.
	t.Run("jailing", func(t *testing.T) {
		evs := testReplaySameAppHash(t, jailing)
		t.Logf("deferred %d, waived %d, jailed %d, slashes %d", evs[EventSlashDeferred], evs[EventSlashWaived], evs[EventJailed], evs[EventSlash])
		for _, typ := range []EventType{EventSlashDeferred, EventSlashWaived, EventJailed} {
			if evs[typ] == 0 {
				t.Errorf("no %v event: the simulation is too tame (events %v)", typ, evs)
			}
		}
		if evs[EventSlash] == 0 {
			t.Errorf("no slash at all")
		}
	})
}

// testReplaySameAppHash runs the simulation under params opts and checks that a replica, a
// restored state and the from-scratch app hash agree at every block. It returns how many
// events of each type the blocks had.
func testReplaySameAppHash(t *testing.T, opts ...func(*Params)) map[EventType]int {
	m := newSim(t, 1, 12, 4, opts...)
	g, _, _ := simGenesis(12, 4, opts...)
	replica, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	if replica.AppHash() != m.st.AppHash() {
		t.Fatal("genesis app hashes differ")
	}
	var restored *State
	supply0 := supply(m.st)
	const blocks = 120
	settled := 0
	evs := map[EventType]int{}
	m.run(t, blocks, func(b Block, res BlockResult) {
		for _, r := range append(slices.Clone(res.TxResults), TxResult{Events: res.Events}) {
			for _, e := range r.Events {
				evs[e.Type]++
				if e.Type == EventVerdict || (e.Type == EventRefund && e.Amount > 0) {
					settled++
				}
			}
		}
		for _, st := range []*State{replica, restored} {
			if st == nil {
				continue
			}
			got, err := st.FinalizeBlock(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			st.Commit()
			if got.AppHash != res.AppHash {
				t.Fatalf("height %d: replica app hash %x, want %x", b.Height, got.AppHash, res.AppHash)
			}
			for i := range got.TxResults {
				if got.TxResults[i].Code != res.TxResults[i].Code {
					t.Fatalf("height %d tx %d: replica code %d, want %d", b.Height, i, got.TxResults[i].Code, res.TxResults[i].Code)
				}
			}
		}
		if got := supply(m.st); got != supply0 {
			t.Fatalf("height %d: supply %d, want %d", b.Height, got, supply0)
		}
		if full := m.st.fullAppHash(); full != res.AppHash {
			t.Fatalf("height %d: incremental app hash %x, from scratch %x", b.Height, res.AppHash, full)
		}
		if b.Height%20 == 0 {
			enc := m.st.MarshalState()
			r, err := UnmarshalState(enc)
			if err != nil {
				t.Fatalf("height %d: UnmarshalState: %v", b.Height, err)
			}
			if r.AppHash() != res.AppHash || !bytes.Equal(r.MarshalState(), enc) {
				t.Fatalf("height %d: restored state differs", b.Height)
			}
			if b.Height == blocks/2 {
				restored = r
			}
		}
	})
	if !bytes.Equal(replica.MarshalState(), m.st.MarshalState()) || !bytes.Equal(restored.MarshalState(), m.st.MarshalState()) {
		t.Error("final states differ")
	}
	// The traffic must have exercised the interesting paths.
	counts := map[Outcome]int{}
	statuses := map[TaskStatus]int{}
	for _, tk := range m.st.tasks {
		statuses[tk.Status]++
		for _, x := range tk.Executors {
			counts[x.Outcome]++
		}
	}
	t.Logf("%d blocks, %d accepted txs, %d tasks %v, outcomes %v, burned %d", blocks, m.accepted, len(m.st.tasks), statuses, counts, m.st.Burned())
	for _, o := range []Outcome{OutcomeAgreed, OutcomeOutlier, OutcomeNoCommit, OutcomeNoReveal, OutcomeCopied} {
		if counts[o] == 0 {
			t.Errorf("no executor ended %v: the simulation is too tame", o)
		}
	}
	if statuses[StatusAccepted] == 0 || statuses[StatusNoVerdict] == 0 {
		t.Errorf("statuses %v: want both verdicts and no-verdicts", statuses)
	}
	return evs
}

// TestRejectedTxChangesNothing: every transaction that the ledger rejects before admitting it
// (decoding, signature, account, nonce, fee) leaves the state byte for byte as it was; one
// whose body fails after admission changes only its signer's nonce and balance (TxFee) and the
// burned total.
func TestRejectedTxChangesNothing(t *testing.T) {
	m := newSim(t, 2, 10, 3)
	rejected := map[uint32]int{}
	for range 80 {
		b := m.nextBlock()
		st := m.st
		st.beginBlock(b)
		var res BlockResult
		for _, raw := range b.Txs {
			before := st.marshal()
			dirty := len(st.dirty)
			r := st.deliverTx(raw, nil)
			res.TxResults = append(res.TxResults, r)
			if r.Code == 0 {
				continue
			}
			rejected[r.Code]++
			want := before
			if !preAdmission(r.Err) {
				// Admitted: the nonce is used and the fee paid.
				ref, err := UnmarshalState(before)
				if err != nil {
					t.Fatal(err)
				}
				tx, _ := DecodeTx(raw)
				a := ref.accounts[tx.Signer]
				a.useNonce(tx.Nonce)
				a.Balance -= ref.params.TxFee
				ref.burned += ref.params.TxFee
				want = ref.marshal()
				dirty = len(st.dirty) // the account may have been touched
			}
			if !bytes.Equal(st.marshal(), want) || len(st.dirty) != dirty {
				t.Fatalf("height %d: rejected tx (%v) changed the state", b.Height, r.Err)
			}
			if r.Err == nil || r.Events != nil {
				t.Fatalf("height %d: rejected tx code %d without error or with events", b.Height, r.Code)
			}
		}
		st.endBlock(&res.Events)
		res.AppHash = st.fold()
		st.Commit()
		m.observe(res)
	}
	t.Logf("rejections by code: %v", rejected)
	for _, err := range []error{ErrMalformedTx, ErrBadSignature, ErrNonce, ErrNotAssigned, ErrCommitmentMismatch, ErrTaskClosed} {
		if rejected[Code(err)] == 0 {
			t.Errorf("no transaction rejected with %v: the simulation is too tame", err)
		}
	}
}

// TestEmptyBlockKeepsAppHash: with nothing due, an empty block does not change the app hash
// (a chain that makes no empty blocks relies on this).
func TestEmptyBlockKeepsAppHash(t *testing.T) {
	g, _, _ := simGenesis(3, 1)
	st, _ := New(g)
	h0 := st.AppHash()
	for h := uint64(1); h <= 3; h++ {
		res, err := st.FinalizeBlock(Block{Height: h}, nil)
		if err != nil {
			t.Fatal(err)
		}
		st.Commit()
		if res.AppHash != h0 {
			t.Errorf("height %d: app hash %x, want %x", h, res.AppHash, h0)
		}
	}
}

// TestBlockOrder: heights must follow each other, and each block must be committed.
func TestBlockOrder(t *testing.T) {
	g, _, _ := simGenesis(1, 1)
	st, _ := New(g)
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"skip a height", func() error { _, err := st.FinalizeBlock(Block{Height: 2}, nil); return err }},
		{"commit before finalize", st.Commit},
		{"finalize twice", func() error {
			if _, err := st.FinalizeBlock(Block{Height: 1}, nil); err != nil {
				return nil // first must succeed; report as missing error below
			}
			_, err := st.FinalizeBlock(Block{Height: 2}, nil)
			return err
		}},
	} {
		if err := tc.do(); !errorsIs(err, ErrBlockOrder) {
			t.Errorf("%s: err = %v, want ErrBlockOrder", tc.name, err)
		}
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// supply returns balances + stakes + fees held for open tasks + burned stake: conserved.
func supply(s *State) uint64 {
	total := s.burned
	for _, a := range s.accounts {
		total += a.Balance
	}
	for _, n := range s.nodes {
		total += n.Stake
	}
	for _, t := range s.tasks {
		if !t.Status.Settled() {
			total += t.Spec.Fee
		}
	}
	return total
}

// preAdmission reports whether err rejects a transaction before it is admitted (and pays its
// fee): decoding, signature, account, nonce.
func preAdmission(err error) bool {
	for _, e := range []error{ErrTxTooLarge, ErrMalformedTx, ErrBadSignature, ErrUnknownAccount, ErrNonce} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
