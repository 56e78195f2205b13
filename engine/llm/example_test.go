package llm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/tensor"
)

const modelPath = "../../testdata/llamacpp/models/tiny-llama-a-f32.gguf"

// Generate greedily, then verify the claim with one teacher-forced pass under another
// profile.
func ExampleModel_Generate() {
	m, err := llm.Load(modelPath, "")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	prompt := m.Tok.Encode("Once upon a time", true, true) // BOS added, as llama-server does
	res, err := m.Generate(ctx, prompt, llm.Params{Decode: llm.DecodeGreedy, MaxTokens: 5}, tensor.Exact)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(prompt, res.Tokens, fmt.Sprintf("%q", res.Text))

	avx512, _ := tensor.ProfileByName("cpu-avx512")
	v, err := m.VerifyGreedy(ctx, prompt, res.Tokens, avx512, llm.DefaultGreedyTol)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted:", v.Accept)
	// Output:
	// [1 9038 2501 263 931] [29895 19306 3059 12542 13763] "k oktoberNSFind Stream"
	// accepted: true
}

// Score a claimed continuation: log-prob, rank and margin of each token.
func ExampleModel_Score() {
	m, err := llm.Load(modelPath, "")
	if err != nil {
		log.Fatal(err)
	}
	prompt := []int32{1, 9038, 2501, 263, 931}
	sc, err := m.Score(context.Background(), prompt, []int32{29895, 4389}, tensor.Exact, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range sc {
		fmt.Printf("id %d logprob %.3f rank %d margin %.3f\n", s.ID, s.LogProb, s.Rank, s.Margin)
	}
	// Output:
	// id 29895 logprob -1.830 rank 0 margin 0.052
	// id 4389 logprob -2.695 rank 1 margin -2.286
}

// The engine serves the model to the network's nodes as an engine.Engine.
func ExampleOpen() {
	e, err := llm.Open(modelPath, llm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	task := engine.Task{Kind: engine.KindText, Model: e.Models()[0], Prompt: "Once upon a time", Seed: 42,
		Text: &engine.TextParams{Decode: "sample", MaxTokens: 4, Temperature: 0.8, TopK: 40, TopP: 0.95}}
	a, err := e.Run(context.Background(), task)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Name(), len(a.Tokens), a.Info["profile"])
	// Output:
	// llm:tiny-llama-a-f32 4 exact
}
