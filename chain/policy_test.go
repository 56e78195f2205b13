package chain

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/genquorum/genquorum/ledger"
)

// TestQueryPolicies: a policy in the genesis app_state (JSON) is registered, and the policies
// query answers it with its rates and dataset digest; a chain without policies answers [].
func TestQueryPolicies(t *testing.T) {
	m := ledger.Model{Name: "base", Digest: sha256.Sum256([]byte("base"))}
	p := ledger.Policy{Model: m, Kind: "image", Parts: []ledger.PolicyPart{{Scheme: "image:phash/16", Tolerance: 10}},
		TypeIPPM: 1_000_000, TypeIPairs: 1500, TypeIIUpperPPM: 20, TypeIIPairs: 149_500, Dataset: [32]byte{0xd9}}
	for _, tt := range []struct {
		name     string
		policies []ledger.Policy
		want     string
	}{
		{"none", nil, "[]"},
		{"one", []ledger.Policy{p}, ""},
	} {
		app, err := json.Marshal(ledger.Genesis{ChainID: "c", Params: ledger.DefaultParams(), Policies: tt.policies})
		if err != nil {
			t.Fatal(err)
		}
		l := NewLedger()
		if _, err := l.InitChain("c", app); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		b, err := l.Query(QueryPolicies, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want != "" {
			if string(b) != tt.want {
				t.Errorf("%s: %s, want %s", tt.name, b, tt.want)
			}
			continue
		}
		var got []PolicyView
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Scheme() != "image:phash/16" || got[0].Parts[0].Tolerance != 10 || got[0].TypeIIUpper != 20 ||
			got[0].TypeIPairs != 1500 || got[0].Model != "base" || got[0].Dataset[:2] != "d9" {
			t.Errorf("%s: %s", tt.name, b)
		}
	}
}
