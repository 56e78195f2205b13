package train

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/tensor"
)

// Party answers bisection queries about a segment under the spec's declared profile: the
// digest of its state after a step, and the state itself.
type Party interface {
	StateDigest(ctx context.Context, step int) (engine.Digest, error)
	State(ctx context.Context, step int) ([]byte, error)
}

// Replayer is a Party that computes states by running from a segment's starting state with
// its options (an honest node's, or a cheater's own procedure), under the declared profile.
// It keeps the digests it has computed.
type Replayer struct {
	spec    Spec
	data    *Dataset
	start   []byte
	opt     Options
	digests map[int]engine.Digest
}

// NewReplayer returns a party replaying spec from state (any checkpoint) with opt; opt's
// profile is replaced by the spec's declared one.
func NewReplayer(spec Spec, data *Dataset, state []byte, opt Options) *Replayer {
	opt.Profile = tensor.Profile{}
	return &Replayer{spec: spec, data: data, start: state, opt: opt, digests: map[int]engine.Digest{}}
}

// run returns a run of the spec from the replay's start at step, noting the digests of the
// states it passes; the caller closes it (on an error it is closed already).
func (p *Replayer) run(ctx context.Context, step int) (*Run, error) {
	r, err := ResumeRun(p.spec, p.start, p.data, p.opt)
	if err != nil {
		return nil, err
	}
	if step < r.Steps() {
		r.Close()
		return nil, fmt.Errorf("train: state at step %d before the replay's start %d", step, r.Steps())
	}
	for r.Steps() < step {
		if err := r.RunTo(ctx, r.Steps()+1); err != nil {
			r.Close()
			return nil, err
		}
		b, err := r.State()
		if err != nil {
			r.Close()
			return nil, err
		}
		p.digests[r.Steps()] = sha256.Sum256(b)
	}
	return r, nil
}

// StateDigest returns the SHA-256 of the state after step.
func (p *Replayer) StateDigest(ctx context.Context, step int) (engine.Digest, error) {
	if d, ok := p.digests[step]; ok {
		return d, nil
	}
	b, err := p.State(ctx, step)
	if err != nil {
		return engine.Digest{}, err
	}
	return sha256.Sum256(b), nil
}

// State returns the state after step.
func (p *Replayer) State(ctx context.Context, step int) ([]byte, error) {
	r, err := p.run(ctx, step)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := r.State()
	if err == nil {
		p.digests[step] = sha256.Sum256(b)
	}
	return b, err
}

// Dispute is the outcome of a bisection and the referee's re-execution.
type Dispute struct {
	Step           int  // the disputed step: the states after Step-1 agree, after Step they differ
	Rounds         int  // bisection rounds (midpoint digests exchanged)
	Bytes          int  // bytes exchanged: 2 digests per round, then the agreed state and 2 digests to the referee
	TrainerLied    bool // the referee's state after Step differs from the trainer's
	ChallengerLied bool // ... from the challenger's
}

// Bisect narrows a disputed segment [lo, hi] (states after lo agree, after hi differ) to one
// step by bisection: each round the trainer and the challenger give their state digests at
// the midpoint (the trainer first: on a network it commits before the challenger reveals),
// and the search keeps the half where they part. Then the referee takes the agreed state
// (checked against the agreed digest), re-executes the single disputed step under the
// spec's declared profile, and compares its digest with both claims.
func Bisect(ctx context.Context, spec Spec, data *Dataset, trainer, challenger Party, lo, hi int) (*Dispute, error) {
	d := &Dispute{}
	tlo, err := trainer.StateDigest(ctx, lo)
	if err != nil {
		return nil, err
	}
	clo, err := challenger.StateDigest(ctx, lo)
	if err != nil {
		return nil, err
	}
	if tlo != clo {
		return nil, fmt.Errorf("train: bisect: states at step %d differ: not an agreed start", lo)
	}
	thi, err := trainer.StateDigest(ctx, hi)
	if err != nil {
		return nil, err
	}
	chi, err := challenger.StateDigest(ctx, hi)
	if err != nil {
		return nil, err
	}
	if thi == chi {
		return nil, fmt.Errorf("train: bisect: states at step %d agree: nothing to dispute", hi)
	}
	agreed := tlo
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		t, err := trainer.StateDigest(ctx, mid)
		if err != nil {
			return nil, err
		}
		c, err := challenger.StateDigest(ctx, mid)
		if err != nil {
			return nil, err
		}
		d.Rounds++
		d.Bytes += 2 * len(t)
		if t == c {
			lo, agreed = mid, t
		} else {
			hi, thi, chi = mid, t, c
		}
	}
	state, err := trainer.State(ctx, lo)
	if err != nil {
		return nil, err
	}
	d.Bytes += len(state) + 2*len(thi)
	if sha256.Sum256(state) != agreed {
		// The trainer hands the referee a state that is not the one it agreed to.
		d.Step, d.TrainerLied = hi, true
		return d, nil
	}
	r, err := ResumeRun(spec, state, data, Options{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if err := r.RunTo(ctx, hi); err != nil {
		return nil, err
	}
	b, err := r.State()
	if err != nil {
		return nil, err
	}
	ref := engine.Digest(sha256.Sum256(b))
	d.Step, d.TrainerLied, d.ChallengerLied = hi, ref != thi, ref != chi
	return d, nil
}
