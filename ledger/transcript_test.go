package ledger

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the actual output")

// TestTranscripts runs the state-machine scenarios in testdata/*.txt. Each case is a command,
// a line "----", and the expected output up to a blank line; `go test -update` rewrites the
// expected output (read the diff before committing). The commands are documented on
// transcript.run.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runTranscript(t, f)
		})
	}
}

type tcase struct {
	comment []string // comment lines just before the command
	line    int
	cmd     string
	want    string
}

func parseTranscript(t *testing.T, path string) (cases []tcase, header string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	var hdr, comment []string
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if len(cases) == 0 && len(comment) > 0 {
				hdr = append(hdr, comment...)
				comment = nil
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			comment = append(comment, line)
			continue
		}
		c := tcase{line: n, cmd: line, comment: comment}
		comment = nil
		if !sc.Scan() || sc.Text() != "----" {
			t.Fatalf("%s:%d: command without ---- line", path, n)
		}
		n++
		var out []string
		for sc.Scan() {
			n++
			if sc.Text() == "" {
				break
			}
			out = append(out, sc.Text())
		}
		c.want = strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return cases, strings.Join(hdr, "\n")
}

func runTranscript(t *testing.T, path string) {
	cases, header := parseTranscript(t, path)
	h := newTranscript(t)
	var rewritten strings.Builder
	if header != "" {
		rewritten.WriteString(strings.TrimRight(header, "\n") + "\n\n")
	}
	for _, c := range cases {
		got := strings.TrimRight(h.run(c.cmd), "\n")
		if !*update && got != c.want {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, c.line, c.cmd, got, c.want)
		}
		for _, l := range c.comment {
			rewritten.WriteString(l + "\n")
		}
		fmt.Fprintf(&rewritten, "%s\n----\n%s\n\n", c.cmd, got)
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimRight(rewritten.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// transcript is the test harness: named keys, named tasks, a queue of transactions for the
// next block.
type transcript struct {
	t       *testing.T
	st      *State
	signers map[string]*Signer
	names   map[PubKey]string
	tasks   map[string]TaskID
	tnames  map[TaskID]string
	commits map[string][32]byte // "task/node" -> commitment sent
	txs     [][]byte            // every queued transaction, 1-based numbering
	labels  []string
	queue   []int
}

func newTranscript(t *testing.T) *transcript {
	return &transcript{t: t, signers: map[string]*Signer{}, names: map[PubKey]string{},
		tasks: map[string]TaskID{}, tnames: map[TaskID]string{}, commits: map[string][32]byte{}}
}

// keyFor returns the deterministic test key of a name.
func keyFor(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("transcript key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func modelFor(name string) Model { return Model{Name: name, Digest: sha256.Sum256([]byte(name))} }

func (h *transcript) signer(name string) *Signer {
	s := h.signers[name]
	if s == nil {
		s = NewSigner(keyFor(name), "transcript")
		h.signers[name] = s
		h.names[s.Key()] = name
	}
	return s
}

func (h *transcript) name(k PubKey) string {
	if n, ok := h.names[k]; ok {
		return n
	}
	return k.String()[:8]
}

func (h *transcript) tname(id TaskID) string {
	if n, ok := h.tnames[id]; ok {
		return n
	}
	return id.String()[:8]
}

func (h *transcript) names2(ks []PubKey) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = h.name(k)
	}
	return strings.Join(s, ",")
}

// scrub replaces hex keys and task IDs in error messages by their names.
func (h *transcript) scrub(msg string) string {
	var pairs []string
	for k, n := range h.names {
		pairs = append(pairs, k.String(), n)
	}
	for id, n := range h.tnames {
		pairs = append(pairs, id.String(), n)
	}
	for k, n := range h.names {
		pairs = append(pairs, hex.EncodeToString(k[:8]), n)
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

func (h *transcript) queueTx(raw []byte, label string) string {
	h.txs = append(h.txs, raw)
	h.labels = append(h.labels, label)
	h.queue = append(h.queue, len(h.txs))
	return fmt.Sprintf("queued tx %d: %s", len(h.txs), label)
}

type args map[string]string

func (a args) u64(k string, def uint64) uint64 {
	v, ok := a[k]
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", k, v, err))
	}
	return n
}

func (a args) hex(k string) []byte {
	b, err := hex.DecodeString(a[k])
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", k, a[k], err))
	}
	return b
}

func (a args) salt() [32]byte { return sha256.Sum256([]byte("salt " + a["salt"])) }

// run executes one command and returns its output. Commands:
//
//	genesis accounts=a:1000,b:5 [commit=N reveal=N min-stake=N max-replicas=N slash-outlier=BPS ...]
//	register NODE stake=N models=m1,m2 [engines=e1] [hw=H] [class=C]
//	transfer FROM to=NAME amount=N
//	unbond NODE amount=N
//	submit FROM model=M n=N [max=N] tol=N [rule=majority|supermajority] fplen=N fee=N
//	commit NODE task=T fp=HEX [salt=S] [copy=OTHER] [commitment-of=HEX]
//	reveal NODE task=T fp=HEX [salt=S]
//	replay K                 queue tx K again, byte for byte
//	tamper K at=I            queue tx K with byte I flipped (negative I counts from the end)
//	trailing K               queue tx K with a byte appended to the body, signed again
//	raw HEX | oversize       queue arbitrary bytes
//	checktx K                stateless CheckTx of tx K
//	block [rand=S]           finalize the queued transactions as the next block
//	blocks N                 finalize N empty blocks
//	task T | node N | account A
func (h *transcript) run(line string) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("error: %v", r)
		}
	}()
	f := strings.Fields(line)
	cmd, pos, a := f[0], []string{}, args{}
	for _, w := range f[1:] {
		if k, v, ok := strings.Cut(w, "="); ok {
			a[k] = v
		} else {
			pos = append(pos, w)
		}
	}
	switch cmd {
	case "genesis":
		p := DefaultParams()
		p.CommitWindow = a.u64("commit", p.CommitWindow)
		p.RevealWindow = a.u64("reveal", p.RevealWindow)
		p.MinStake = a.u64("min-stake", p.MinStake)
		p.MaxReplicas = uint32(a.u64("max-replicas", uint64(p.MaxReplicas)))
		p.SlashOutlierBPS = uint32(a.u64("slash-outlier", uint64(p.SlashOutlierBPS)))
		p.SlashNoRevealBPS = uint32(a.u64("slash-noreveal", uint64(p.SlashNoRevealBPS)))
		p.SlashNoCommitBPS = uint32(a.u64("slash-nocommit", uint64(p.SlashNoCommitBPS)))
		p.SlashCopyBPS = uint32(a.u64("slash-copy", uint64(p.SlashCopyBPS)))
		g := Genesis{ChainID: "transcript", Params: p}
		for _, acc := range strings.Split(a["accounts"], ",") {
			n, bal, _ := strings.Cut(acc, ":")
			v, err := strconv.ParseUint(bal, 10, 64)
			if err != nil {
				panic(err)
			}
			g.Accounts = append(g.Accounts, GenesisAccount{Key: h.signer(n).Key(), Balance: v})
		}
		st, err := New(g)
		if err != nil {
			return "error: " + err.Error()
		}
		h.st = st
		ah := st.AppHash()
		return fmt.Sprintf("apphash %x", ah[:4])
	case "register":
		var models []Model
		for _, m := range strings.Split(a["models"], ",") {
			if m != "" {
				models = append(models, modelFor(m))
			}
		}
		var engines []string
		if a["engines"] != "" {
			engines = strings.Split(a["engines"], ",")
		}
		raw := h.signer(pos[0]).RegisterNode(RegisterNode{Stake: a.u64("stake", 0), Engines: engines,
			Models: models, Hardware: a["hw"], Class: a["class"]})
		return h.queueTx(raw, "register "+pos[0])
	case "transfer":
		raw := h.signer(pos[0]).Transfer(h.signer(a["to"]).Key(), a.u64("amount", 0))
		return h.queueTx(raw, "transfer "+pos[0])
	case "unbond":
		return h.queueTx(h.signer(pos[0]).Unbond(a.u64("amount", 0)), "unbond "+pos[0])
	case "submit":
		rule := quorum.Majority
		if a["rule"] != "" {
			r, err := quorum.ParseRule(a["rule"])
			if err != nil {
				panic(err)
			}
			rule = r
		}
		raw, id := h.signer(pos[0]).SubmitTask(SubmitTask{Kind: "image", Model: modelFor(a["model"]),
			Prompt: []byte("a cat"), Seed: 42, Replicas: uint32(a.u64("n", 3)),
			MaxReplicas: uint32(a.u64("max", 0)), Tolerance: uint32(a.u64("tol", 0)), Rule: rule,
			FingerprintLen: uint32(a.u64("fplen", 1)), Fee: a.u64("fee", 0)})
		name := fmt.Sprintf("t%d", len(h.tasks)+1)
		h.tasks[name], h.tnames[id] = id, name
		return h.queueTx(raw, "submit "+pos[0]+" "+name)
	case "commit":
		s, id := h.signer(pos[0]), h.tasks[a["task"]]
		c := CommitmentFor(id, s.Key(), a.hex("fp"), a.salt())
		if o := a["copy"]; o != "" {
			c = h.commits[a["task"]+"/"+o]
		}
		h.commits[a["task"]+"/"+pos[0]] = c
		return h.queueTx(s.Sign(&Commit{Task: id, Commitment: c}), "commit "+pos[0]+" "+a["task"])
	case "reveal":
		raw := h.signer(pos[0]).Reveal(h.tasks[a["task"]], a.hex("fp"), a.salt(), [32]byte{})
		return h.queueTx(raw, "reveal "+pos[0]+" "+a["task"])
	case "replay":
		k, _ := strconv.Atoi(pos[0])
		return h.queueTx(h.txs[k-1], "replay of tx "+pos[0])
	case "tamper":
		k, _ := strconv.Atoi(pos[0])
		raw := slices.Clone(h.txs[k-1])
		i, _ := strconv.Atoi(a["at"])
		if i < 0 {
			i += len(raw)
		}
		raw[i] ^= 0x01
		return h.queueTx(raw, fmt.Sprintf("tx %d with byte %d flipped", k, i))
	case "trailing":
		k, _ := strconv.Atoi(pos[0])
		raw := h.txs[k-1]
		signer := h.signers[h.names[PubKey(raw[2:34])]]
		unsigned := append(slices.Clone(raw[:len(raw)-sigLen]), 0)
		raw = append(unsigned, ed25519.Sign(signer.priv, SignBytes("transcript", unsigned))...)
		return h.queueTx(raw, fmt.Sprintf("tx %d with a trailing byte, signed", k))
	case "raw":
		b, _ := hex.DecodeString(pos[0])
		return h.queueTx(b, "raw bytes")
	case "oversize":
		return h.queueTx(make([]byte, MaxTxBytes+1), "oversize")
	case "checktx":
		k, _ := strconv.Atoi(pos[0])
		if _, err := CheckTx("transcript", h.txs[k-1], nil); err != nil {
			return fmt.Sprintf("rejected code=%d: %s", Code(err), h.scrub(err.Error()))
		}
		return "ok"
	case "block":
		return h.block(a["rand"])
	case "blocks":
		var b strings.Builder
		n := a.u64("n", 1)
		if len(pos) > 0 {
			n, _ = strconv.ParseUint(pos[0], 10, 64)
		}
		for range n {
			b.WriteString(h.block(""))
			b.WriteString("\n")
		}
		return b.String()
	case "task":
		return h.showTask(pos[0])
	case "node":
		nd, ok := h.st.Node(h.signer(pos[0]).Key())
		if !ok {
			return "no such node"
		}
		r := nd.Record
		return fmt.Sprintf("stake=%d open=%d models=%d class=%q\nrecord assigned=%d agreed=%d outliers=%d undecided=%d no-commit=%d no-reveal=%d copied=%d earned=%d slashed=%d\nbalance=%d",
			nd.Stake, nd.Open, len(nd.Models), nd.Class, r.Assigned, r.Agreed, r.Outliers, r.Undecided,
			r.NoCommit, r.NoReveal, r.Copied, r.Earned, r.Slashed, h.st.Account(nd.Key).Balance)
	case "account":
		acc := h.st.Account(h.signer(pos[0]).Key())
		return fmt.Sprintf("balance=%d nonce=%d", acc.Balance, acc.Nonce)
	}
	return "error: unknown command " + cmd
}

func (h *transcript) block(seed string) string {
	var txs [][]byte
	for _, k := range h.queue {
		txs = append(txs, h.txs[k-1])
	}
	if seed == "" {
		seed = strconv.FormatUint(h.st.Height()+1, 10)
	}
	before := h.st.MarshalState()
	res, err := h.st.FinalizeBlock(Block{Height: h.st.Height() + 1, Rand: sha256.Sum256([]byte("block " + seed)), Txs: txs}, nil)
	if err != nil {
		return "error: " + err.Error()
	}
	if err := h.st.Commit(); err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "height %d", h.st.Height())
	allRejected := true
	for i, r := range res.TxResults {
		k := h.queue[i]
		if r.Err != nil {
			fmt.Fprintf(&b, "\ntx %d %s: rejected code=%d: %s", k, h.labels[k-1], r.Code, h.scrub(r.Err.Error()))
			allRejected = allRejected && preAdmission(r.Err)
			continue
		}
		allRejected = false
		fmt.Fprintf(&b, "\ntx %d %s: ok", k, h.labels[k-1])
		for _, e := range r.Events {
			b.WriteString("\n  " + h.event(e))
		}
	}
	for _, e := range res.Events {
		b.WriteString("\nend: " + h.event(e))
	}
	h.queue = nil
	fmt.Fprintf(&b, "\napphash %x", res.AppHash[:4])
	// Invariants checked at every block of every transcript.
	if full := h.st.fullAppHash(); full != res.AppHash {
		h.t.Errorf("height %d: incremental app hash %x, from scratch %x", h.st.Height(), res.AppHash, full)
	}
	restored, err := UnmarshalState(h.st.MarshalState())
	if err != nil {
		h.t.Errorf("height %d: UnmarshalState: %v", h.st.Height(), err)
	} else if restored.AppHash() != res.AppHash {
		h.t.Errorf("height %d: restored app hash %x, want %x", h.st.Height(), restored.AppHash(), res.AppHash)
	}
	if allRejected && len(res.Events) == 0 {
		after := h.st.MarshalState()
		// Only the height may differ: compare with the height patched back.
		if !bytes.Equal(withoutHeight(before), withoutHeight(after)) {
			h.t.Errorf("height %d: a block of transactions rejected before admission changed the state", h.st.Height())
		}
	}
	return b.String()
}

// withoutHeight blanks the height field of a MarshalState encoding.
func withoutHeight(b []byte) []byte {
	b = slices.Clone(b)
	d := decoder{b: b[len(stateMagic):]}
	d.str("chain id", MaxChainIDBytes)
	decodeParams(&d)
	d.u64() // prune after
	d.u32() // spot verifiers
	d.u32() // escalate verifiers
	d.u32() // escalate margin
	off := len(b) - len(d.b)
	clear(b[off : off+8])
	return b
}

func (h *transcript) event(e Event) string {
	t := h.tname(e.Task)
	switch e.Type {
	case EventNodeRegistered:
		return fmt.Sprintf("node-registered %s stake=%d", h.name(e.Node), e.Amount)
	case EventUnbonded:
		return fmt.Sprintf("unbonded %s %d", h.name(e.Node), e.Amount)
	case EventTaskAssigned:
		return fmt.Sprintf("task-assigned %s round=%d nodes=%s commit<=%d reveal<=%d", t, e.Round, h.names2(e.Nodes), e.CommitDeadline, e.RevealDeadline)
	case EventCommitted:
		return fmt.Sprintf("committed %s %s", t, h.name(e.Node))
	case EventDuplicateCommitment:
		return fmt.Sprintf("duplicate-commitment %s %s same-as=%s", t, h.name(e.Node), h.names2(e.Nodes))
	case EventRevealOpen:
		return fmt.Sprintf("reveal-open %s round=%d reveal<=%d", t, e.Round, e.RevealDeadline)
	case EventRevealed:
		return fmt.Sprintf("revealed %s %s", t, h.name(e.Node))
	case EventVerdict:
		return fmt.Sprintf("verdict %s round=%d value=%x support=%d need=%d agreeing=%s", t, e.Round, e.Value, e.Support, e.Need, h.names2(e.Nodes))
	case EventNoVerdict:
		return fmt.Sprintf("no-verdict %s round=%d support=%d need=%d reason=%q", t, e.Round, e.Support, e.Need, e.Reason)
	case EventReward:
		return fmt.Sprintf("reward %s %s %d", t, h.name(e.Node), e.Amount)
	case EventSlash:
		return fmt.Sprintf("slash %s %s %d reason=%q", t, h.name(e.Node), e.Amount, e.Reason)
	case EventRefund:
		return fmt.Sprintf("refund %s %s %d", t, h.name(e.Node), e.Amount)
	}
	return fmt.Sprintf("%v", e)
}

func (h *transcript) showTask(name string) string {
	tk, ok := h.st.Task(h.tasks[name])
	if !ok {
		return "no such task"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s status=%s round=%d assigned=%d commit<=%d reveal<=%d commit-closed=%d settled=%d",
		name, tk.Status, tk.Round, tk.AssignedAt, tk.CommitDeadline, tk.RevealDeadline, tk.CommitClosedAt, tk.SettledAt)
	if tk.Status.Settled() {
		fmt.Fprintf(&b, "\nvalue=%x support=%d need=%d reason=%q", tk.Value, tk.Support, tk.Need, tk.Reason)
	}
	for _, x := range tk.Executors {
		fmt.Fprintf(&b, "\n  %s committed=%t duplicate=%t revealed=%t fp=%x outcome=%s", h.name(x.Node), x.Committed, x.Duplicate, x.Revealed, x.Fingerprint, x.Outcome)
	}
	return b.String()
}
