package train

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/engine/diffusion"
)

func tinyBase(t testing.TB) diffusion.Named {
	t.Helper()
	m, err := diffusion.NewModel(diffusion.TinyConfig(), diffusion.BaseVocab, 7)
	if err != nil {
		t.Fatal(err)
	}
	nm, err := diffusion.NamedModel("base", m)
	if err != nil {
		t.Fatal(err)
	}
	return nm
}

func tinySpec(base diffusion.Named, data *Dataset, method string) Spec {
	return Spec{Base: base.Digest, Method: method, Dataset: data.Digest(), Steps: 8, Batch: 4, Micro: 2,
		LR: 0.01, Seed: 3, Every: 2, Profile: "exact"}
}

func digests(s *Series) []string {
	var ds []string
	for _, c := range s.Checkpoints {
		ds = append(ds, fmt.Sprintf("%d:%.12s", c.Step, c.Digest.String()))
	}
	return ds
}

func mustTrain(t testing.TB, spec Spec, base diffusion.Named, data *Dataset, opt Options) *Series {
	t.Helper()
	s, err := Train(context.Background(), spec, base, data, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDeterministic: with every switch off a run is a pure function of the spec: the same
// checkpoint digests on GOMAXPROCS 1, 2 and 8, and when resumed from any checkpoint.
func TestDeterministic(t *testing.T) {
	base, data := tinyBase(t), Synthetic(12, 1)
	methods := []string{MethodTI, MethodLoRA, MethodFull}
	if testing.Short() {
		methods = methods[:1]
	}
	for _, method := range methods {
		t.Run(method, func(t *testing.T) {
			spec := tinySpec(base, data, method)
			var want []string
			var ref *Series
			for _, procs := range []int{1, 2, 8} {
				prev := runtime.GOMAXPROCS(procs)
				s := mustTrain(t, spec, base, data, Options{RunSeed: uint64(procs)})
				runtime.GOMAXPROCS(prev)
				got := digests(s)
				if want == nil {
					want, ref = got, s
					continue
				}
				if !slices.Equal(got, want) {
					t.Errorf("GOMAXPROCS %d: %v, want %v", procs, got, want)
				}
			}
			if len(slices.Compact(slices.Clone(want))) != len(want) {
				t.Errorf("checkpoints repeat: %v", want)
			}
			for k, c := range ref.Checkpoints[:len(ref.Checkpoints)-1] {
				r, err := ResumeRun(spec, c.State, data, Options{RunSeed: 99})
				if err != nil {
					t.Fatal(err)
				}
				s, err := r.Series(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got := digests(s); !slices.Equal(got, want[k:]) {
					t.Errorf("resumed from checkpoint %d: %v, want %v", k, got, want[k:])
				}
			}
		})
	}
}

// fields returns the draws of source s.
func (d *draws) field(s Source) any {
	switch s {
	case Flip:
		return d.Flip
	case Template:
		return d.Template
	case Shuffle:
		return d.Index
	case SampleNoise:
		return d.Dequant
	case Timestep:
		return d.T
	case SchedNoise:
		return d.Noise
	case PromptDrop:
		return d.Drop
	}
	panic("unknown source")
}

// TestSwitches: switching one source on changes that source's draws and no other's; on, a
// source is seeded per run (two run seeds differ, one run seed repeats); and each switch
// changes the trained checkpoints.
func TestSwitches(t *testing.T) {
	base, data := tinyBase(t), Synthetic(12, 1)
	spec := tinySpec(base, data, MethodTI)
	spec.DropPrompt = 0.3
	draw := func(sp Spec, runSeed uint64, steps int) []draws {
		m, err := prepare(&sp, base)
		if err != nil {
			t.Fatal(err)
		}
		in, err := newInputs(&sp, data, m, runSeed)
		if err != nil {
			t.Fatal(err)
		}
		var ds []draws
		for k := range steps {
			ds = append(ds, in.draw(k))
		}
		return ds
	}
	const steps = 6 // two epochs of 12 images at batch 4
	off := draw(spec, 1, steps)
	if !reflect.DeepEqual(off, draw(spec, 2, steps)) {
		t.Fatal("with every switch off, the run seed changed a draw")
	}
	offSeries := mustTrain(t, spec, base, data, Options{RunSeed: 1})
	for s := range NumSources {
		t.Run(s.String(), func(t *testing.T) {
			on := spec
			on.Switches[s] = true
			a, b := draw(on, 1, steps), draw(on, 2, steps)
			if !reflect.DeepEqual(a, draw(on, 1, steps)) {
				t.Error("one run seed gave two different draws")
			}
			for src := range NumSources {
				same, sameRun := true, true
				for k := range steps {
					same = same && reflect.DeepEqual(a[k].field(src), off[k].field(src))
					sameRun = sameRun && reflect.DeepEqual(a[k].field(src), b[k].field(src))
				}
				switch {
				case src == s && (same || sameRun):
					t.Errorf("switch on: its draws equal the task-seeded ones %v, another run's %v", same, sameRun)
				case src != s && !(same && sameRun):
					t.Errorf("switch %s on changed the draws of %s", s, src)
				}
			}
			got := mustTrain(t, on, base, data, Options{RunSeed: 1})
			if got.Checkpoints[1].Digest == offSeries.Checkpoints[1].Digest {
				t.Errorf("switch on: checkpoint 1 equals the deterministic run's")
			}
		})
	}
}
