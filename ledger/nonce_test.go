package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"
)

// TestNonceWindow: nonces may arrive out of order within NonceWindow of the highest accepted,
// each is accepted at most once, and nonces further below are refused.
func TestNonceWindow(t *testing.T) {
	cases := []struct {
		name   string
		nonces []uint64
		ok     []bool
	}{
		{"in order", []uint64{1, 2, 3}, []bool{true, true, true}},
		{"zero", []uint64{0}, []bool{false}},
		{"replay of the highest", []uint64{1, 2, 2}, []bool{true, true, false}},
		{"gap then fill", []uint64{5, 3, 1, 2, 4}, []bool{true, true, true, true, true}},
		{"replay below the highest", []uint64{5, 3, 3, 5, 4}, []bool{true, true, false, false, true}},
		{"edge of the window", []uint64{NonceWindow + 1, 1, 1}, []bool{true, true, false}},
		{"past the window", []uint64{NonceWindow + 2, 1, 2}, []bool{true, false, true}},
		{"shift across words", []uint64{10, 80, 11, 10, 200, 80, 12, 9}, []bool{true, true, true, false, true, false, true, true}},
		{"jump clears the window", []uint64{1, 2, 2 + 3*NonceWindow, 2*NonceWindow + 1, 2*NonceWindow + 3, 2*NonceWindow + 3}, []bool{true, true, true, false, true, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a *Account
			for i, n := range c.nonces {
				err := a.checkNonce(n)
				if (err == nil) != c.ok[i] {
					t.Fatalf("nonce %d (#%d): err %v, want ok=%v", n, i, err, c.ok[i])
				}
				if err != nil {
					if !errors.Is(err, ErrNonce) {
						t.Fatalf("nonce %d: %v is not ErrNonce", n, err)
					}
					continue
				}
				if a == nil {
					a = &Account{}
				}
				a.useNonce(n)
			}
		})
	}
}

// TestNonceOutOfOrderBlock: a signer's transactions executed out of signing order are all
// accepted; the same bytes again are replays.
func TestNonceOutOfOrderBlock(t *testing.T) {
	g := Genesis{ChainID: "nonce-test", Params: DefaultParams()}
	alice, bob := testSigner(g.ChainID, "alice"), testSigner(g.ChainID, "bob")
	g.Accounts = []GenesisAccount{{Key: alice.Key(), Balance: 1000}}
	st, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	var txs [][]byte
	for range 5 {
		txs = append(txs, alice.Transfer(bob.Key(), 1))
	}
	order := [][]byte{txs[4], txs[1], txs[0], txs[3], txs[2], txs[1], txs[4]}
	res, err := st.FinalizeBlock(Block{Height: 1, Txs: order}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Commit()
	var codes []uint32
	for _, r := range res.TxResults {
		codes = append(codes, r.Code)
	}
	want := []uint32{0, 0, 0, 0, 0, Code(ErrNonce), Code(ErrNonce)}
	if !equalCodes(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	if got := st.Account(bob.Key()).Balance; got != 5 {
		t.Errorf("bob's balance %d, want 5", got)
	}
}

func testSigner(chainID, name string) *Signer {
	seed := sha256.Sum256([]byte(name))
	return NewSigner(ed25519.NewKeyFromSeed(seed[:]), chainID)
}

func equalCodes(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
