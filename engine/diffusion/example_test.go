package diffusion_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
)

func ExampleTokenize() {
	ids := diffusion.Tokenize(diffusion.BaseVocab, "A photo of an ankle boot", 8)
	for _, id := range ids {
		fmt.Print(diffusion.BaseVocab[id], " ")
	}
	fmt.Println()
	// Output:
	// <bos> a photo of an ankle boot <pad>
}

// A randomly initialised tiny model gives noise, but the same bits everywhere: this digest is
// the same on every machine and GOMAXPROCS.
func ExampleEngine_Run() {
	m, err := diffusion.NewModel(diffusion.TinyConfig(), diffusion.BaseVocab, 1)
	if err != nil {
		log.Fatal(err)
	}
	nm, err := diffusion.NamedModel("base", m)
	if err != nil {
		log.Fatal(err)
	}
	eng, err := diffusion.New(nm)
	if err != nil {
		log.Fatal(err)
	}
	a, err := eng.Run(context.Background(), engine.Task{
		Kind: engine.KindImage, Model: engine.ModelRef{Name: "base"}, Prompt: "A photo of a bag", Seed: 42,
		Image: &engine.ImageParams{Sampler: "ddim", Steps: 5, CFGScale: 3},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.MediaType, a.Info["size"], a.Info["profile"])
	fmt.Printf("%x\n", sha256.Sum256(a.Data))
	// Output:
	// image/png 32x32 exact
	// 1b831956525725771f82205d2ef5900ce892820867a6af9fcfa4431d835f3035
}
