package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/models"
	"github.com/genquorum/genquorum/tensor"
)

// TestMeasureFirstSegmentDrift (GENQUORUM_DRIFT0=first,last seeds, GENQUORUM_DRIFT_OUT=file):
// segment 0 starts from the spec's initial state, the same bits on every profile, so the honest
// distance of trainer profile A and verifier profile B at K = 1..4 is the distance of A's and
// B's runs after K steps: one 4-step run per profile gives every pair.
func TestMeasureFirstSegmentDrift(t *testing.T) {
	if os.Getenv("GENQUORUM_DRIFT0") == "" {
		t.Skip("GENQUORUM_DRIFT0=first,last")
	}
	f, err := os.Create(os.Getenv("GENQUORUM_DRIFT_OUT"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	data := Synthetic(12, 1)
	ps := append([]tensor.Profile{tensor.Exact}, profiles(t, "cpu-avx2", "cpu-avx512", "ampere-tf32", "ampere-fp16", "hopper-bf16", "turing-fp16acc")...)
	r := strings.Split(os.Getenv("GENQUORUM_DRIFT0"), ",")
	lo, _ := strconv.Atoi(r[0])
	hi, _ := strconv.Atoi(r[1])
	fmt.Fprintln(f, "seed\tK\tprofile_a\tprofile_b\tdistance")
	for seed := lo; seed <= hi; seed++ {
		fps := make([][][]float32, len(ps)) // profile, step
		for i, p := range ps {
			spec := Spec{Base: base.Digest, Method: MethodTI, Dataset: data.Digest(), Steps: 4, Batch: 4, LR: 0.01, Seed: uint64(seed), Every: 1, Profile: p.Name}
			s := mustTrain(t, spec, base, data, Options{})
			for _, c := range s.Checkpoints {
				fps[i] = append(fps[i], c.Fingerprint)
			}
		}
		for i := range ps {
			for j := i + 1; j < len(ps); j++ {
				for k := 1; k <= 4; k++ {
					fmt.Fprintf(f, "%d\t%d\t%s\t%s\t%.6g\n", seed, k, ps[i].Name, ps[j].Name, Distance(fps[i][k], fps[j][k]))
				}
			}
		}
	}
}

// TestMeasureLaterSegmentDrift (GENQUORUM_DRIFT1=seeds, GENQUORUM_DRIFT_OUT=file): honest
// distances of segments 1 and 2 (K 4) for trainers on the half-precision profiles and exact,
// every verifier profile.
func TestMeasureLaterSegmentDrift(t *testing.T) {
	if os.Getenv("GENQUORUM_DRIFT1") == "" {
		t.Skip("GENQUORUM_DRIFT1=seeds")
	}
	f, err := os.Create(os.Getenv("GENQUORUM_DRIFT_OUT"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	base, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	data := Synthetic(12, 1)
	ps := append([]tensor.Profile{tensor.Exact}, profiles(t, "cpu-avx2", "cpu-avx512", "ampere-tf32", "ampere-fp16", "hopper-bf16", "turing-fp16acc")...)
	fmt.Fprintln(f, "seed\ttrainer_profile\tverifier_profile\tsegment\tdistance")
	for _, ss := range strings.Split(os.Getenv("GENQUORUM_DRIFT1"), ",") {
		seed, _ := strconv.Atoi(ss)
		for _, tp := range profiles(t, "ampere-fp16", "hopper-bf16", "turing-fp16acc", "exact") {
			K := 4
			spec := Spec{Base: base.Digest, Method: MethodTI, Dataset: data.Digest(), Steps: 3 * K, Batch: 4, LR: 0.01, Seed: uint64(seed), Every: K, Profile: tp.Name}
			s := mustTrain(t, spec, base, data, Options{})
			cs := s.Commitments()
			for _, vp := range ps {
				for k := 1; k < spec.Segments(); k++ {
					r, err := VerifySegment(ctx, spec, data, cs, k, s.Checkpoints[k].State, Options{Profile: vp}, math.Inf(1))
					if err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(f, "%d\t%s\t%s\t%d\t%.6g\n", seed, tp.Name, vp.Name, k, r.Distance)
				}
			}
		}
	}
}

// TestMeasureFirstSegmentCheats (GENQUORUM_DRIFTC=first,last, GENQUORUM_DRIFT_OUT=file): segment 0
// distances (K = 1..4) of the cheats that falsify it, as ParseCheat sets them (other-seed,
// other-lr) and a copy of the inverted dataset's run, against an honest run on exact.
func TestMeasureFirstSegmentCheats(t *testing.T) {
	if os.Getenv("GENQUORUM_DRIFTC") == "" {
		t.Skip("GENQUORUM_DRIFTC=first,last")
	}
	f, err := os.Create(os.Getenv("GENQUORUM_DRIFT_OUT"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, err := models.Diffusion("base")
	if err != nil {
		t.Fatal(err)
	}
	data := Synthetic(12, 1)
	other := &Dataset{Images: append([]uint8(nil), data.Images...), Labels: data.Labels}
	for i := range other.Images {
		other.Images[i] = 255 - other.Images[i]
	}
	r := strings.Split(os.Getenv("GENQUORUM_DRIFTC"), ",")
	lo, _ := strconv.Atoi(r[0])
	hi, _ := strconv.Atoi(r[1])
	fmt.Fprintln(f, "seed\tK\tcheat\tdistance")
	for seed := lo; seed <= hi; seed++ {
		spec := Spec{Base: base.Digest, Method: MethodTI, Dataset: data.Digest(), Steps: 4, Batch: 4, LR: 0.01, Seed: uint64(seed), Every: 1, Profile: "exact"}
		honest := mustTrain(t, spec, base, data, Options{})
		row := func(name string, s *Series) {
			for k := 1; k <= 4; k++ {
				fmt.Fprintf(f, "%d\t%d\t%s\t%.6g\n", seed, k, name, Distance(honest.Checkpoints[k].Fingerprint, s.Checkpoints[k].Fingerprint))
			}
		}
		for _, cheat := range []string{"other-seed", "other-lr"} {
			c, _ := ParseCheat(cheat, &spec)
			row(cheat, mustTrain(t, spec, base, data, Options{Cheat: c}))
		}
		os := spec
		os.Dataset = other.Digest()
		row("copy", mustTrain(t, os, base, other, Options{}))
	}
}
