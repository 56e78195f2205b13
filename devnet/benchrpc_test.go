package devnet

import (
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// TestVaryPromptKeepsPayloadInStep: the varied spec's engine task carries the varied prompt,
// so executors do not refuse bench tasks as disagreeing with the ledger (which once made every
// bench --rpc task an agreed "unrunnable" verdict).
func TestVaryPromptKeepsPayloadInStep(t *testing.T) {
	sch, err := fingerprint.ParseScheme("text:tokens")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := node.Request{Task: engine.Task{Kind: engine.KindText, Model: engine.ModelRef{Name: "m"}, Prompt: "bench", Seed: 1,
		Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}}, Scheme: sch, Replicas: 3, Rule: quorum.Majority, Fee: 30}.Spec()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 7, 199} {
		sp, err := VaryPrompt(spec, i)
		if err != nil {
			t.Fatal(err)
		}
		var p node.Payload
		if err := p.UnmarshalBinary(sp.Params); err != nil {
			t.Fatal(err)
		}
		if p.Task.Prompt != string(sp.Prompt) || string(sp.Prompt) == string(spec.Prompt) {
			t.Errorf("task %d: payload prompt %q, ledger prompt %q (base %q)", i, p.Task.Prompt, sp.Prompt, spec.Prompt)
		}
	}
	if string(spec.Prompt) != "bench" {
		t.Errorf("VaryPrompt changed its input: %q", spec.Prompt)
	}
}
