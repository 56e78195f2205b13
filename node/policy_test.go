package node

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/imghash"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/models"
)

// TestParsePolicy: the built-in base model's measured policy becomes the ledger policy
// pHash/16 at tolerance 10 with its counts and dataset digest; a study that chose nothing, a
// scheme spelled differently from package fingerprint's, rates that disagree with their
// counts and a bad digest are refused.
func TestParsePolicy(t *testing.T) {
	raw, err := models.DiffusionPolicy("base")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := chain.ViewPolicy(p); !reflect.DeepEqual(got, basePolicyView) {
		t.Errorf("ParsePolicy(policy-base.json) = %+v, want %+v", got, basePolicyView)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	chosen := func(m map[string]any) map[string]any { return m["chosen"].(map[string]any) }
	for name, b := range map[string][]byte{
		"nothing chosen": edit(func(m map[string]any) { m["chosen"] = nil }),
		"short scheme name": edit(func(m map[string]any) {
			chosen(m)["parts"] = []any{map[string]any{"scheme": "image:phash", "tolerance": 10}}
		}),
		"Type I off count":   edit(func(m map[string]any) { m["type1_ppm"] = 999_000 }),
		"Type II off count":  edit(func(m map[string]any) { chosen(m)["Type2Pass"] = 3 }),
		"upper bound below":  edit(func(m map[string]any) { m["type2_upper95_ppm"] = -1 }),
		"bad model digest":   edit(func(m map[string]any) { m["model_digest"] = "86005ccb" }),
		"bad dataset digest": edit(func(m map[string]any) { m["dataset_digest"] = "" }),
		"negative tolerance": edit(func(m map[string]any) {
			chosen(m)["parts"] = []any{map[string]any{"scheme": "image:phash/16", "tolerance": -1}}
		}),
		"tolerance over bits": edit(func(m map[string]any) {
			chosen(m)["parts"] = []any{map[string]any{"scheme": "image:phash/8", "tolerance": 65}}
		}),
		"not JSON": []byte("{"),
	} {
		if _, err := ParsePolicy(b); !errors.Is(err, ErrPolicy) {
			t.Errorf("%s: %v, want ErrPolicy", name, err)
		}
	}
}

// TestCheckPolicy: an executor runs a task under a policy only when the task's parameters name
// the policy's scheme; the same length under another hash (aHash/16 for pHash/16) is refused,
// and so is a policy of several parts, which this node does not compute.
func TestCheckPolicy(t *testing.T) {
	task := engine.Task{Kind: engine.KindImage, Prompt: "a shoe", Seed: 1, Image: &engine.ImageParams{Sampler: "ddim", Steps: 4, CFGScale: 3}}
	two := basePolicyView
	two.Parts = []ledger.PolicyPart{{Scheme: "image:phash/8", Tolerance: 2}, {Scheme: "image:dhash/8", Tolerance: 2}}
	tests := []struct {
		name   string
		scheme fingerprint.Scheme
		pv     *chain.PolicyView
		ok     bool
	}{
		{"the policy's", fingerprint.ImageScheme(imghash.PHash, 16), &basePolicyView, true},
		{"aHash/16, same length", fingerprint.ImageScheme(imghash.AverageHash, 16), &basePolicyView, false},
		{"pHash/8", fingerprint.ImageScheme(imghash.PHash, 8), &basePolicyView, false},
		{"two parts", fingerprint.ImageScheme(imghash.PHash, 8), &two, false},
	}
	for _, tt := range tests {
		err := checkPolicy(Payload{Scheme: tt.scheme, Task: task}, tt.pv)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrPolicy)) {
			t.Errorf("%s: %v", tt.name, err)
		}
		var r Request
		if err := r.UsePolicy(tt.pv); tt.pv == &basePolicyView && (err != nil || r.Scheme != fingerprint.ImageScheme(imghash.PHash, 16) || r.Tolerance != 10) {
			t.Errorf("UsePolicy(base): %+v, %v", r, err)
		} else if tt.pv == &two && err == nil {
			t.Error("UsePolicy took a policy of two parts")
		}
	}
}
