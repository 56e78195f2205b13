package train_test

import (
	"context"
	"fmt"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/train"
)

// tinyBase is the tiny built-in-shaped base model the examples train.
func tinyBase() diffusion.Named {
	m, err := diffusion.NewModel(diffusion.TinyConfig(), diffusion.BaseVocab, 7)
	if err != nil {
		panic(err)
	}
	base, err := diffusion.NamedModel("base", m)
	if err != nil {
		panic(err)
	}
	return base
}

// Train runs a whole spec and returns its checkpoint series: Steps/Every+1 checkpoints, each
// with the digest of the state the ledger commits to.
func ExampleTrain() {
	base, data := tinyBase(), train.Synthetic(12, 1)
	spec := train.Spec{Base: base.Digest, Method: train.MethodTI, Dataset: data.Digest(), Steps: 4, Batch: 4, Micro: 2,
		LR: 0.01, Seed: 3, Every: 2, Profile: "exact"}
	series, err := train.Train(context.Background(), spec, base, data, train.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range series.Checkpoints {
		fmt.Println("checkpoint at step", c.Step)
	}
	// Output:
	// checkpoint at step 0
	// checkpoint at step 2
	// checkpoint at step 4
}

// A Run steps on demand (a verifier re-executing a segment, a side of a dispute); Close gives
// its working memory back to the process for the next run, and the run stays usable.
func ExampleRun_Close() {
	base, data := tinyBase(), train.Synthetic(12, 1)
	spec := train.Spec{Base: base.Digest, Method: train.MethodTI, Dataset: data.Digest(), Steps: 4, Batch: 4, Micro: 2,
		LR: 0.01, Seed: 3, Every: 2, Profile: "exact"}
	r, err := train.NewRun(spec, base, data, train.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	if err := r.RunTo(context.Background(), 2); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("steps:", r.Steps())
	r.Close() // the next step takes memory from the process's pool again
	if err := r.RunTo(context.Background(), 3); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("steps after Close:", r.Steps())
	// Output:
	// steps: 2
	// steps after Close: 3
}
