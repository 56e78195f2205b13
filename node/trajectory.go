package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/store"
)

// Trajectory-verified image tasks (ledger.VerifyTrajectory; Request.TrajectorySegments). The
// generator (executor 0) runs the task recording the sampler's states at Segments+1 steps,
// keeps them in its store (served over p2p by digest) and commits to its image fingerprint
// followed by the states' digests. After its reveal, each verifier checks the ends (the first
// digest is the seed's noise, computed here; the image fingerprint is that of the rounding of
// the last state, fetched), fetches the two states of every segment the ledger drew, re-runs
// the segment on its own profile and votes (ledger.Vote: bit j for the j-th pick, bit Checks
// for the ends). The node's TrainCheat, when it names a diffusion trajectory cheat
// (diffusion.CheatFewerSteps, ...), makes a generator substitute that run (tests).

// mediaTypeState is the media type of the diffusion states a generator stores.
const mediaTypeState = "application/x-genquorum-diffusion-state"

// TrajectoryEngine is implemented by engines that run image tasks with trajectory verification
// (diffusion.Engine). The task's Profile is the profile of the node calling.
type TrajectoryEngine interface {
	// RunTrajectory runs the task (cheat "" honest) and returns its artifact and the states
	// at the segments' boundaries, as served.
	RunTrajectory(ctx context.Context, task engine.Task, segments int, cheat string) (*engine.Artifact, [][]byte, error)
	// TrajectoryInitialState returns the state before the first step (the seed's noise).
	TrajectoryInitialState(task engine.Task) ([]byte, error)
	// TrajectoryImage returns the image artifact that a final state rounds to.
	TrajectoryImage(task engine.Task, last []byte) (*engine.Artifact, error)
	// CheckTrajectorySegment re-runs segment k from the state from and compares with to.
	CheckTrajectorySegment(ctx context.Context, task engine.Task, segments, k int, from, to []byte) (diffusion.SegmentCheck, error)
}

// trajectoryTask returns the engine task of a trajectory-verified task on profile, its
// fingerprint scheme and its TrajectoryEngine.
func (n *Node) trajectoryTask(tv chain.TaskView, profile string) (engine.Task, fingerprint.Scheme, TrajectoryEngine, error) {
	digest, _ := hex.DecodeString(tv.ModelDigest)
	if len(digest) != 32 || tv.Segment == nil {
		return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: trajectory task without model digest or segments", errUnrunnable)
	}
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	dl := ledger.TrajectoryDigestsLen(tv.Segment.Segments)
	if tv.FingerprintLen <= dl {
		return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: fingerprint of %d bytes for %d digests", errUnrunnable, tv.FingerprintLen, tv.Segment.Segments+1)
	}
	if err := checkPayload(p, tv.FingerprintLen-dl); err != nil {
		return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	if tv.Policy != nil {
		if err := checkPolicy(p, tv.Policy); err != nil {
			return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: %v", errUnrunnable, err)
		}
	}
	task := p.Task
	task.Profile = profile
	if task.Kind != engine.KindImage || task.Image == nil || int(tv.Segment.Segments) > task.Image.Steps {
		return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: trajectory verification needs an image task of at least %d steps", errUnrunnable, tv.Segment.Segments)
	}
	e, err := n.engines.ForTask(task)
	if err != nil {
		return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	te, ok := e.(TrajectoryEngine)
	if !ok {
		return engine.Task{}, fingerprint.Scheme{}, nil, fmt.Errorf("%w: engine %s does not record trajectories", errUnrunnable, e.Name())
	}
	return task, p.Scheme, te, nil
}

// trajectoryCheat is the node's TrainCheat when it names a trajectory cheat, else "".
func (n *Node) trajectoryCheat() string {
	switch c := n.trainCheat(); c {
	case diffusion.CheatFewerSteps, diffusion.CheatSampler, diffusion.CheatGuidance, diffusion.CheatOtherModel:
		return c
	}
	return ""
}

// generateTrajectory is the generator's part of a trajectory-verified task: run it, keep the
// states and the image in the store, and return the opening (image fingerprint, then the
// states' digests).
func (n *Node) generateTrajectory(ctx context.Context, tv chain.TaskView) (*opening, error) {
	task, scheme, te, err := n.trajectoryTask(tv, n.cfg.Profile)
	if err != nil {
		return nil, err
	}
	n.logger.Info("generating with trajectory", "task", tv.ID[:12], "segments", tv.Segment.Segments)
	t0 := time.Now()
	art, states, err := te.RunTrajectory(ctx, task, int(tv.Segment.Segments), n.trajectoryCheat())
	if err != nil {
		return nil, err
	}
	n.logger.Info("generated with trajectory", "task", tv.ID[:12], "states", len(states), "generate_ms", float64(time.Since(t0).Microseconds())/1000)
	fp, err := fingerprint.Of(art, scheme, n.cfg.Fingerprint)
	if err != nil {
		return nil, err
	}
	digests := make([][32]byte, len(states))
	for i, s := range states {
		d, err := n.store.Put(ctx, s, store.ArtifactMeta{MediaType: mediaTypeState, TaskID: tv.ID})
		if err != nil {
			return nil, err
		}
		digests[i] = [32]byte(d)
	}
	d, err := n.store.Put(ctx, art.Data, store.ArtifactMeta{MediaType: art.MediaType, TaskID: tv.ID, Height: int64(tv.AssignedAt)})
	if err != nil {
		return nil, err
	}
	out := ledger.TrajectoryBytes(fp, digests)
	if len(out) != int(tv.FingerprintLen) {
		return nil, fmt.Errorf("%w: trajectory of %d bytes, the task wants %d", errUnrunnable, len(out), tv.FingerprintLen)
	}
	return &opening{Fingerprint: out, Artifact: d}, nil
}

// trajectoryVote is a verifier's part of a trajectory-verified task in StatusSegments: check
// the ends and the drawn segments (judgeTrajectory), and commit the vote; it is revealed when
// the vote reveals open (castVote). It sends nothing when the node is not a verifier that has
// yet to commit its vote.
func (n *Node) trajectoryVote(ctx context.Context, k jobKey, tv chain.TaskView, me int, log *slog.Logger) error {
	if tv.Status != ledger.StatusSegments.String() || me < 1 || tv.Executors[me].VoteCommitted || tv.Segment == nil {
		return nil
	}
	return n.castVote(ctx, k, func() (uint64, uint64, error) {
		mask, err := n.judgeTrajectory(ctx, k, tv, log)
		return mask, 0, err
	}, log)
}

// judgeTrajectory returns a verifier's vote on a trajectory: bit j set when the j-th pick
// passed its re-run on this node's profile, bit Checks when the ends passed.
func (n *Node) judgeTrajectory(ctx context.Context, k jobKey, tv chain.TaskView, log *slog.Logger) (uint64, error) {
	revealed, err := hex.DecodeString(tv.Executors[0].Fingerprint)
	if err != nil {
		return 0, fmt.Errorf("revealed trajectory: %w", err)
	}
	S := tv.Segment.Segments
	image, digests, ok := ledger.SplitTrajectory(revealed, S)
	if !ok {
		return 0, fmt.Errorf("%w: revealed trajectory of %d bytes", errUnrunnable, len(revealed))
	}
	rnd, err := hex.DecodeString(tv.SegmentRand)
	if err != nil || len(rnd) != 32 {
		return 0, fmt.Errorf("segment randomness %q", tv.SegmentRand)
	}
	picks := ledger.TrajectoryPicks([32]byte(rnd), k.task, *tv.Segment)
	log.Info("checking trajectory", "segments", fmt.Sprint(picks))
	task, scheme, te, err := n.trajectoryTask(tv, n.cfg.Profile)
	if err != nil {
		if bytes.Equal(revealed, ledger.UnrunnableFingerprint(k.task, tv.FingerprintLen)) {
			log.Info("trajectory: unrunnable here too, as the generator said", "err", err)
			return 1<<(len(picks)+1) - 1, nil
		}
		return 0, err
	}
	gen := tv.Executors[0].Node
	fetch := func(i uint32) ([]byte, error) { // a few tries: a dial may fail once on a busy machine
		var b []byte
		var err error
		for try := range 3 {
			if b, err = n.fetchState(ctx, digests[i], gen); err == nil || ctx.Err() != nil {
				return b, err
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(try+1) * 250 * time.Millisecond):
			}
		}
		return nil, err
	}
	var mask uint64
	// The ends: the first state is the seed's noise, the image is the last state's.
	first, err := te.TrajectoryInitialState(task)
	if err != nil {
		return 0, err
	}
	endsOK := sha256.Sum256(first) == digests[0]
	last, err := fetch(S)
	if err != nil {
		log.Info("trajectory: last state not fetched, ends judged failed", "err", err)
		endsOK = false
	} else if endsOK {
		art, err := te.TrajectoryImage(task, last)
		if err != nil {
			endsOK = false
		} else {
			fp, err := fingerprint.Of(art, scheme, n.cfg.Fingerprint)
			endsOK = err == nil && bytes.Equal(fp, image)
		}
	}
	if endsOK {
		mask |= 1 << len(picks)
	} else {
		log.Info("trajectory: ends rejected")
	}
	for j, seg := range picks {
		t0 := time.Now()
		from, err := fetch(seg)
		var to []byte
		if err == nil {
			to, err = fetch(seg + 1)
		}
		if err != nil { // the generator does not serve its states: the segment fails
			log.Info("trajectory: state not fetched, segment judged failed", "segment", seg, "err", err)
			continue
		}
		t1 := time.Now()
		c, err := te.CheckTrajectorySegment(ctx, task, int(S), int(seg), from, to)
		if err != nil {
			return 0, err
		}
		// What verification costs: two states' fetch and one segment's re-run.
		log.Info("trajectory segment checked", "segment", seg, "steps", fmt.Sprintf("%d-%d", c.From, c.To), "ok", c.OK,
			"rms", c.RMS, "fetch_ms", float64(t1.Sub(t0).Microseconds())/1000, "verify_ms", float64(time.Since(t1).Microseconds())/1000)
		if c.OK {
			mask |= 1 << j
		}
	}
	return mask, nil
}
