package ledger

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/genquorum/genquorum/quorum"
)

// goldenTxs returns one signed transaction of each type, from fixed keys.
func goldenTxs() [][]byte {
	a := NewSigner(keyFor("alice"), "golden")
	n := NewSigner(keyFor("n1"), "golden")
	task := TaskIDFor(a.Key(), 3)
	var salt [32]byte
	salt[0] = 7
	return [][]byte{
		a.Transfer(n.Key(), 1000),
		n.RegisterNode(RegisterNode{Stake: 500, Engines: []string{"llm", "diffusion"},
			Models: []Model{modelFor("tiny-llama")}, Hardware: "cpu-split4", Class: "cpu", Capacity: 8,
			Kinds: []string{"text,train"}}),
		n.Unbond(20),
		first(a.SubmitTask(SubmitTask{Kind: "text", Model: modelFor("tiny-llama"), Prompt: []byte("Once upon"),
			Seed: 42, Params: []byte{1, 2, 3}, Replicas: 3, MaxReplicas: 5, Tolerance: 2,
			Rule: quorum.SuperMajority, FingerprintLen: 8, Fee: 300})),
		n.Commit(task, []byte{1, 2, 3, 4, 5, 6, 7, 8}, salt),
		n.Reveal(task, []byte{1, 2, 3, 4, 5, 6, 7, 8}, salt, [32]byte{9}),
		n.Batch(Batch{Commits: []Commit{{Task: task, Commitment: [32]byte{5}}},
			Reveals: []Reveal{{Task: task, Fingerprint: []byte{1, 2}, Salt: salt, Artifact: [32]byte{9}}}}),
		n.Unjail(),
		n.VoteReveal(task, 0b101, 0b010, salt),
		n.VoteCommit(task, 0b101, 0b010, salt),
	}
}

func first[A, B any](a A, _ B) A { return a }

// TestTxGolden pins the wire format: the transactions in testdata/txs.golden (one per line, in
// hex) are what today's Signer produces, and they decode back to equal values. A change here
// is a protocol change: old transactions would no longer verify.
func TestTxGolden(t *testing.T) {
	const path = "testdata/txs.golden"
	txs := goldenTxs()
	var b bytes.Buffer
	for _, raw := range txs {
		tx, err := CheckTx("golden", raw, nil)
		if err != nil {
			t.Fatalf("CheckTx(golden tx): %v", err)
		}
		fmt.Fprintf(&b, "%s %x\n", tx.Body.Type(), raw)
	}
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("signed transactions differ from %s:\n%s", path, b.Bytes())
	}
}

func readGoldenTxs(tb testing.TB) [][]byte {
	f, err := os.ReadFile("testdata/txs.golden")
	if err != nil {
		tb.Fatal(err)
	}
	var txs [][]byte
	sc := bufio.NewScanner(bytes.NewReader(f))
	sc.Buffer(nil, 4*MaxTxBytes)
	for sc.Scan() {
		_, h, _ := strings.Cut(sc.Text(), " ")
		raw, err := hex.DecodeString(h)
		if err != nil {
			tb.Fatal(err)
		}
		txs = append(txs, raw)
	}
	return txs
}

// TestDecodeTxRejects: each way of breaking a transaction gets its sentinel error.
func TestDecodeTxRejects(t *testing.T) {
	good := goldenTxs()
	submit := good[3]
	resign := func(body Body) []byte {
		s := NewSigner(keyFor("alice"), "golden")
		return s.Sign(body)
	}
	spec := SubmitTask{Kind: "text", Model: modelFor("m"), Replicas: 3, Rule: quorum.Majority, FingerprintLen: 8}
	with := func(f func(*SubmitTask)) []byte { s := spec; f(&s); return resign(&s) }
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, ErrMalformedTx},
		{"oversize", make([]byte, MaxTxBytes+1), ErrTxTooLarge},
		{"version", append([]byte{2}, submit[1:]...), ErrMalformedTx},
		{"type", append([]byte{1, 99}, submit[2:]...), ErrMalformedTx},
		{"truncated body", append(slices2(submit[:50]), submit[len(submit)-64:]...), ErrMalformedTx},
		{"bad signature", flip(submit, len(submit)-1), ErrBadSignature},
		{"body bit", flip(submit, 60), ErrBadSignature},
		{"zero replicas", with(func(s *SubmitTask) { s.Replicas = 0 }), ErrMalformedTx},
		{"bad rule", with(func(s *SubmitTask) { s.Rule = 3 }), ErrMalformedTx},
		{"tolerance over bits", with(func(s *SubmitTask) { s.Tolerance = 65 }), ErrMalformedTx},
		{"zero fingerprint", with(func(s *SubmitTask) { s.FingerprintLen = 0 }), ErrMalformedTx},
		{"max below replicas", with(func(s *SubmitTask) { s.MaxReplicas = 2 }), ErrMalformedTx},
		{"no kind", with(func(s *SubmitTask) { s.Kind = "" }), ErrMalformedTx},
		{"long prompt", with(func(s *SubmitTask) { s.Prompt = make([]byte, MaxPromptBytes+1) }), ErrMalformedTx},
		{"zero transfer", resign(&Transfer{}), ErrMalformedTx},
		{"zero unbond", resign(&Unbond{}), ErrMalformedTx},
		{"no models", resign(&RegisterNode{Stake: 1}), ErrMalformedTx},
		{"model twice", resign(&RegisterNode{Models: []Model{modelFor("a"), modelFor("a")}}), ErrMalformedTx},
		{"empty reveal", resign(&Reveal{}), ErrMalformedTx},
		{"other chain", NewSigner(keyFor("alice"), "other").Transfer(PubKey{}, 1), ErrBadSignature},
	}
	for _, c := range cases {
		_, err := CheckTx("golden", c.raw, nil)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: CheckTx = %v, want %v", c.name, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "ledger: ") {
			t.Errorf("%s: error %q lacks the package prefix", c.name, err)
		}
	}
}

func slices2(b []byte) []byte { return append([]byte(nil), b...) }

func flip(b []byte, i int) []byte {
	c := slices2(b)
	c[i] ^= 1
	return c
}

// TestSigCache: a transaction checked once is not verified again, and a forged one is never
// remembered; the cache is bounded.
func TestSigCache(t *testing.T) {
	c := NewSigCache("golden", 2)
	txs := goldenTxs()
	for _, raw := range txs[:3] {
		if _, err := CheckTx("golden", raw, c); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d after 3 adds to a cache of 2", c.Len())
	}
	if c.has("golden", TxHash(txs[0])) || !c.has("golden", TxHash(txs[2])) {
		t.Error("cache did not forget the oldest entry")
	}
	if c.has("other", TxHash(txs[2])) {
		t.Error("cache answered for another chain")
	}
	forged := flip(txs[4], len(txs[4])-1)
	if _, err := CheckTx("golden", forged, c); !errors.Is(err, ErrBadSignature) {
		t.Errorf("forged: %v", err)
	}
	if c.has("golden", TxHash(forged)) {
		t.Error("forged transaction remembered")
	}
	if !c.take("golden", TxHash(txs[2])) || c.take("golden", TxHash(txs[2])) {
		t.Error("take should succeed once")
	}
	var nilCache *SigCache
	if nilCache.has("golden", TxHash(txs[0])) || nilCache.Len() != 0 {
		t.Error("nil cache remembers")
	}
}

// TestCodes: every sentinel has its own code, and codes are stable.
func TestCodes(t *testing.T) {
	seen := map[uint32]error{}
	for _, e := range codes[1:] {
		c := Code(fmt.Errorf("context: %w", e))
		if c == 0 || c == CodeInternal || seen[c] != nil {
			t.Errorf("Code(%v) = %d", e, c)
		}
		seen[c] = e
	}
	if Code(ErrTaskClosed) != 19 || Code(ErrMalformedTx) != 2 || Code(nil) != 0 || Code(errors.New("x")) != CodeInternal {
		t.Error("codes changed: they are part of the protocol")
	}
}

// FuzzDecodeTx: DecodeTx never panics and never allocates beyond its limits, and whatever it
// accepts is canonical: re-encoding gives back the same bytes.
func FuzzDecodeTx(f *testing.F) {
	for _, raw := range readGoldenTxs(f) {
		f.Add(raw)
	}
	f.Add([]byte{1, 4})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := DecodeTx(raw)
		if err != nil {
			if Code(err) == 0 || Code(err) == CodeInternal {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		again := append(encodeUnsigned(tx.Signer, tx.Nonce, tx.Body), raw[len(raw)-sigLen:]...)
		if !bytes.Equal(again, raw) {
			t.Fatalf("not canonical:\n in %x\nout %x", raw, again)
		}
	})
}

// FuzzUnmarshalState: UnmarshalState never panics, and what it accepts marshals back to the
// same bytes.
func FuzzUnmarshalState(f *testing.F) {
	m := newSim(f, 3, 4, 2)
	m.run(f, 12, nil)
	f.Add(m.st.MarshalState())
	g, _, _ := simGenesis(1, 1)
	st, _ := New(g)
	f.Add(st.MarshalState())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalState(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedState) {
				t.Fatalf("error not wrapping ErrMalformedState: %v", err)
			}
			return
		}
		if !bytes.Equal(s.MarshalState(), b) {
			t.Fatal("state encoding not canonical")
		}
	})
}

// TestCheckTxConcurrent: CheckTx and the cache are safe for concurrent use (run with -race).
func TestCheckTxConcurrent(t *testing.T) {
	c := NewSigCache("golden", 4)
	txs := goldenTxs()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				raw := txs[(g+i)%len(txs)]
				if _, err := CheckTx("golden", raw, c); err != nil {
					errs[g] = err
					return
				}
				c.take("golden", TxHash(raw))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
