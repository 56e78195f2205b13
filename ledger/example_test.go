package ledger_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/quorum"
)

func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// A task from submission to verdict: three nodes, n=3, majority, tolerance 2 bits.
func Example() {
	const chain = "example"
	client := ledger.NewSigner(key("client"), chain)
	nodes := []*ledger.Signer{ledger.NewSigner(key("a"), chain), ledger.NewSigner(key("b"), chain), ledger.NewSigner(key("c"), chain)}
	g := ledger.Genesis{ChainID: chain, Params: ledger.DefaultParams(),
		Accounts: []ledger.GenesisAccount{{Key: client.Key(), Balance: 1000}}}
	for _, n := range nodes {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Key: n.Key(), Balance: 500})
	}
	st, err := ledger.New(g)
	if err != nil {
		panic(err)
	}
	cache := ledger.NewSigCache(chain, 1024)
	height := uint64(0)
	block := func(txs ...[]byte) ledger.BlockResult {
		for _, raw := range txs {
			if _, err := ledger.CheckTx(chain, raw, cache); err != nil {
				panic(err)
			}
		}
		height++
		res, err := st.FinalizeBlock(ledger.Block{Height: height, Rand: sha256.Sum256([]byte{byte(height)}), Txs: txs}, cache)
		if err != nil {
			panic(err)
		}
		if err := st.Commit(); err != nil {
			panic(err)
		}
		return res
	}

	model := ledger.Model{Name: "tiny-diffusion", Digest: sha256.Sum256([]byte("weights"))}
	var reg [][]byte
	for _, n := range nodes {
		reg = append(reg, n.RegisterNode(ledger.RegisterNode{Stake: 200, Models: []ledger.Model{model}}))
	}
	block(reg...)

	submit, id := client.SubmitTask(ledger.SubmitTask{Kind: "image", Model: model, Prompt: []byte("a shoe"),
		Seed: 7, Replicas: 3, Tolerance: 2, Rule: quorum.Majority, FingerprintLen: 8, Fee: 90})
	res := block(submit)
	fmt.Println("assigned:", len(res.TxResults[0].Events[0].Nodes), "executors")

	fps := [][]byte{ // what each executor's engine produced: two agree within 2 bits
		{0x8f, 0x0f, 0, 0, 0, 0, 0, 1},
		{0x8f, 0x0f, 0, 0, 0, 0, 0, 3},
		{0x70, 0xf0, 0, 0, 0, 0, 0, 1},
	}
	var salt [32]byte // use crypto/rand in real code
	var commits, reveals [][]byte
	for i, n := range nodes {
		commits = append(commits, n.Commit(id, fps[i], salt))
		reveals = append(reveals, n.Reveal(id, fps[i], salt, [32]byte{}))
	}
	block(commits...)
	res = block(reveals...)
	for _, e := range res.TxResults[2].Events {
		switch e.Type {
		case ledger.EventVerdict:
			fmt.Printf("verdict %x, support %d of need %d\n", e.Value, e.Support, e.Need)
		case ledger.EventReward:
			fmt.Println(e.Type, e.Amount)
		case ledger.EventSlash:
			fmt.Println(e.Type, e.Amount, e.Reason)
		}
	}
	t, _ := st.Task(id)
	fmt.Println("status:", t.Status)
	// Output:
	// assigned: 3 executors
	// verdict 8f0f000000000001, support 2 of need 2
	// slash 20 outlier
	// reward 45
	// reward 45
	// status: accepted
}

// CheckTx rejects a forged signature, and a transaction signed for another chain, with
// ErrBadSignature (code 3).
func ExampleCheckTx() {
	s := ledger.NewSigner(key("a"), "example")
	raw := s.Transfer(ledger.PubKey{1}, 5)
	_, err := ledger.CheckTx("example", raw, nil)
	fmt.Println(err)
	raw[len(raw)-1] ^= 1 // forge the signature
	_, err = ledger.CheckTx("example", raw, nil)
	fmt.Println(ledger.Code(err), err != nil)
	_, err = ledger.CheckTx("another-chain", s.Transfer(ledger.PubKey{1}, 5), nil)
	fmt.Println(ledger.Code(err))
	// Output:
	// <nil>
	// 3 true
	// 3
}

func ExampleCommitmentFor() {
	var task ledger.TaskID
	var node ledger.PubKey
	var salt [32]byte
	c := ledger.CommitmentFor(task, node, []byte{0xca, 0xfe}, salt)
	d := ledger.CommitmentFor(task, ledger.PubKey{1}, []byte{0xca, 0xfe}, salt)
	fmt.Println(c == d) // another node's commitment to the same fingerprint differs
	// Output: false
}

// A verifier of a training task with 3 picks commits to its vote (picks 0 and 2 passed: bits
// 0 and 2 of valid) before any vote is revealed; the reveal opens the commitment only with the
// same vote and salt, and a copier cannot reuse it (the voter's key is inside).
func ExampleVoteCommitmentFor() {
	var task ledger.TaskID
	voter, copier := ledger.PubKey{1}, ledger.PubKey{2}
	salt := [32]byte{7} // secret and random until the reveal
	c := ledger.VoteCommitmentFor(task, voter, 0b101, 0, salt)
	fmt.Println(c == ledger.VoteCommitmentFor(task, voter, 0b101, 0, salt))  // the reveal opens it
	fmt.Println(c == ledger.VoteCommitmentFor(task, voter, 0b111, 0, salt))  // another vote does not
	fmt.Println(c == ledger.VoteCommitmentFor(task, copier, 0b101, 0, salt)) // nor another voter
	// Output:
	// true
	// false
	// false
}

func ExampleEvent_Attributes() {
	e := ledger.Event{Type: ledger.EventSlash, Task: ledger.TaskID{0xab}, Node: ledger.PubKey{0xcd}, Amount: 20, Reason: ledger.ReasonOutlier}
	fmt.Println(e.Type)
	for _, a := range e.Attributes() {
		fmt.Printf("%s=%.8s\n", a.Key, a.Value)
	}
	// Output:
	// slash
	// task=ab000000
	// node=cd000000
	// amount=20
	// reason=outlier
}
