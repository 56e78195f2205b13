package diffusion

import "testing"

// TestTrainerClosePoolsArenas checks that Close hands the trainer's arenas to the next trainer
// and that reuse cannot change a bit: a run whose steps take arenas another trainer filled (with
// a different batch, so the buffers' old contents differ), and a run closed between its steps,
// end with the weights of a run on fresh arenas.
func TestTrainerClosePoolsArenas(t *testing.T) {
	data := synthData(40)
	tc := DefaultTrainConfig()
	tc.Batch, tc.Micro, tc.Warmup = 4, 2, 2
	fresh := func() *Trainer {
		tr, err := NewTrainer(tinyModel(t), data, tc)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	arenaPool.Lock()
	arenaPool.free = nil // the reference run below starts on new arenas
	arenaPool.Unlock()
	ref := fresh()
	for range 3 {
		ref.Step()
	}
	want := modelDigest(t, ref.Weights())
	used := ref.arenas
	ref.Close()

	other := tc
	other.Seed++
	filler, err := NewTrainer(tinyModel(t), data, other)
	if err != nil {
		t.Fatal(err)
	}
	filler.Step()
	if filler.arenas[0] != used[len(used)-1] && filler.arenas[0] != used[0] {
		t.Fatalf("after Close, the next trainer got a new arena, not one of the closed trainer's")
	}
	filler.Close()

	tr := fresh()
	tr.Step()
	tr.Close() // stays usable: the next step takes arenas again
	tr.Step()
	tr.Step()
	if got := modelDigest(t, tr.Weights()); got != want {
		t.Errorf("weights on pooled arenas %s, on fresh ones %s", got, want)
	}
	tr.Close()
}
