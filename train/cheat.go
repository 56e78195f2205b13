package train

// CheatKind is a way a trainer cheats (for tests and the demo).
type CheatKind int

// The cheats.
const (
	None         CheatKind = iota
	SkipSteps              // from step From, skips every other step but claims it
	FewerSteps             // stops training at step From; later checkpoints repeat the last real one
	OtherLR                // from step From, trains with learning rate LR (checkpoints still claim the spec's)
	OtherSeed              // draws every source from seed Seed instead of the task's (checkpoints claim the spec's)
	NoiseWeights           // adds Gaussian noise of deviation Noise to the weights after step From (and every Every steps after, when Every > 0)
	CopySeries             // commits another run's checkpoints (see Copy)
)

var cheatNames = map[CheatKind]string{None: "honest", SkipSteps: "skip-steps", FewerSteps: "fewer-steps",
	OtherLR: "other-lr", OtherSeed: "other-seed", NoiseWeights: "noise-weights", CopySeries: "copy"}

func (k CheatKind) String() string { return cheatNames[k] }

// Cheat is a cheating behaviour and its parameters.
type Cheat struct {
	Kind  CheatKind
	From  int     // 0-based index of the first cheating step
	LR    float32 // OtherLR
	Seed  uint64  // OtherSeed; NoiseWeights' noise seed
	Noise float32 // NoiseWeights
	Every int     // NoiseWeights: repeat every Every steps (0: once)
}

// Copy returns the series a copier commits for spec: another run's checkpoints, unchanged.
func Copy(spec Spec, other *Series) *Series {
	return &Series{Spec: spec, Checkpoints: append([]Checkpoint(nil), other.Checkpoints...)}
}
