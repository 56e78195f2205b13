package train

import (
	"context"
	"errors"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/enginetest"
	fpr "github.com/genquorum/genquorum/fingerprint"
)

func trainTask(base engine.ModelRef, data *Dataset, profile string, seed uint64) engine.Task {
	return engine.Task{Kind: engine.KindTrain, Model: base, Seed: seed, Profile: profile,
		Train: &engine.TrainParams{Method: "textual-inversion", Steps: 4, Checkpoint: 2, Dataset: data.Digest()}}
}

// TestEngine: the training engine passes the engine contract, and the SimHash sketches of two
// profiles' runs are close while another concept's are far. (Another seed is not: over 4 steps
// Adam moves the 8 numbers of the tiny TI embedding in nearly the same direction whatever the
// draws, and a SimHash sees only the direction; segment re-execution catches it by distance.)
func TestEngine(t *testing.T) {
	base, data := tinyBase(t), Synthetic(8, 1)
	e, err := NewEngine([]diffusion.Named{base}, data)
	if err != nil {
		t.Fatal(err)
	}
	ref := e.Models()[0]
	enginetest.Run(t, e, trainTask(ref, data, "exact", 1))
	ctx := context.Background()
	sch, err := fpr.ParseScheme("vector:simhash/256")
	if err != nil {
		t.Fatal(err)
	}
	other := Synthetic(8, 1) // another concept: the same shapes, dark on bright
	for i := range other.Images {
		other.Images[i] = 255 - other.Images[i]
	}
	if err := e.AddDataset(other); err != nil {
		t.Fatal(err)
	}
	sketch := func(profile string, d *Dataset) []byte {
		a, err := e.Run(ctx, trainTask(ref, d, profile, 1))
		if err != nil {
			t.Fatal(err)
		}
		fp, err := fpr.Of(a, sch, fpr.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return fp
	}
	exact, bf16, otherConcept := sketch("exact", data), sketch("hopper-bf16", data), sketch("exact", other)
	near, _ := fpr.Distance(exact, bf16)
	far, _ := fpr.Distance(exact, otherConcept)
	t.Logf("Hamming distance of 256-bit sketches: exact vs hopper-bf16 %d, exact vs another concept %d", near, far)
	if near > 2 || far <= 2*near+4 {
		t.Errorf("sketch distances: honest %d, another concept %d", near, far)
	}
	if _, err := e.Run(ctx, trainTask(ref, Synthetic(8, 9), "exact", 1)); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("unknown dataset: %v, want ErrUnsupported", err)
	}
}
