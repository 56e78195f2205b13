package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
)

// SegmentEngine is implemented by engines that run training tasks with segment verification
// (ledger.VerifySegments; train.Engine). The task's Profile is the trainer's declared profile
// (its registered hardware) in every call.
type SegmentEngine interface {
	// TrainSeries trains the task as its trainer (cheat: a behaviour name for tests, "" honest)
	// and returns the series revealed on the ledger and every checkpoint's state.
	TrainSeries(ctx context.Context, task engine.Task, cheat string) (series []byte, states [][]byte, err error)
	// VerifySegment re-executes segment k on profile from the fetched state of checkpoint k
	// and judges it against the revealed series: ok, or not ok with the reason.
	VerifySegment(ctx context.Context, task engine.Task, profile string, series []byte, k int, state []byte) (ok bool, reason string, err error)
	// StateAt replays the task from start (nil: the initial state) to step under the declared
	// profile, as the trainer with cheat would ("" honest), and returns the state.
	StateAt(ctx context.Context, task engine.Task, start []byte, step int, cheat string) ([]byte, error)
}

// SetTrainCheat changes how the node cheats when it trains (Config.TrainCheat), for tests
// that run several cheats on one network.
func (n *Node) SetTrainCheat(cheat string) {
	n.mu.Lock()
	n.cfg.TrainCheat = cheat
	n.mu.Unlock()
}

func (n *Node) trainCheat() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cfg.TrainCheat
}

// segmentTask returns the engine task of a training task with segment verification, its
// SegmentEngine, and the trainer's declared profile (its registered hardware).
func (n *Node) segmentTask(ctx context.Context, tv chain.TaskView) (engine.Task, SegmentEngine, error) {
	digest, _ := hex.DecodeString(tv.ModelDigest)
	if len(digest) != 32 || len(tv.Executors) == 0 {
		return engine.Task{}, nil, fmt.Errorf("%w: training task without model digest or trainer", errUnrunnable)
	}
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return engine.Task{}, nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	task := p.Task
	key, _ := hex.DecodeString(tv.Executors[0].Node)
	var nv chain.NodeView
	if err := n.client.QueryJSON(ctx, chain.QueryNode, key, &nv); err != nil {
		return engine.Task{}, nil, err
	}
	task.Profile = nv.Hardware
	e, err := n.engines.ForTask(task)
	if err != nil {
		return engine.Task{}, nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	se, ok := e.(SegmentEngine)
	if !ok {
		return engine.Task{}, nil, fmt.Errorf("%w: engine %s does not verify segments", errUnrunnable, e.Name())
	}
	if err := n.EnsureDataset(ctx, task); err != nil {
		return engine.Task{}, nil, err
	}
	return task, se, nil
}

// trainSegments is the trainer's part of a training task with segment verification: train,
// keep every checkpoint's state in the store (served over p2p by digest), and return the
// opening of the series.
func (n *Node) trainSegments(ctx context.Context, tv chain.TaskView) (*opening, error) {
	task, se, err := n.segmentTask(ctx, tv)
	if err != nil {
		return nil, err
	}
	// Logged before the work (seconds to minutes) so that an operator, and the restart tests,
	// can tell a node that is training from one that is idle.
	n.logger.Info("training", "task", tv.ID[:12], "profile", task.Profile)
	t0 := time.Now()
	series, states, err := se.TrainSeries(ctx, task, n.trainCheat())
	if err != nil {
		return nil, err
	}
	n.logger.Info("trained", "task", tv.ID[:12], "checkpoints", len(states), "train_ms", float64(time.Since(t0).Microseconds())/1000)
	if len(series) != int(tv.FingerprintLen) {
		return nil, fmt.Errorf("%w: series of %d bytes, the task wants %d", errUnrunnable, len(series), tv.FingerprintLen)
	}
	var last store.Digest
	for _, s := range states {
		if last, err = n.store.Put(ctx, s, store.ArtifactMeta{MediaType: "application/x-genquorum-train-state", TaskID: tv.ID}); err != nil {
			return nil, err
		}
	}
	return &opening{Fingerprint: series, Artifact: last}, nil
}

// segmentWork is this node's part in a training task's verification or dispute, by the
// task's current state: a verifier commits its vote on its picked segments (castVote); in a dispute the trainer
// and the challenger give their digests at the step asked, the referee re-executes the one
// disputed step. Queued on segments-open, dispute-open, bisect-query and referee-drawn; it
// does nothing when it has nothing (more) to send. A step that failed for a reason that may
// pass (a peer not serving a state yet, as after a restart of every node) is queued again
// for the next block, so that the node does not fall silent in a dispute it would win; it
// stops once the task has moved on or settled (segmentStep then sends nothing).
func (n *Node) segmentWork(ctx context.Context, k jobKey) {
	log := n.logger.With("task", k.task.String()[:12])
	if err := n.segmentStep(ctx, k, log); err != nil && ctx.Err() == nil {
		if errors.Is(err, errUnrunnable) {
			log.Warn("training task: nothing sent", "err", err)
			return
		}
		log.Warn("training task: nothing sent, retrying at the next block", "err", err)
		n.push(&n.segs, k)
	}
}

// segmentTurn reports whether this node has something to send in a training task's
// verification or dispute (or an image task's trajectory verification) now: a vote
// commitment as a verifier that has not committed one (its reveal follows EventVoteRevealOpen,
// like a check round's: castVote), a digest as the
// trainer or the challenger that has not sent the one asked, or the referee's digest. me is
// its executor index (-1: none).
func (n *Node) segmentTurn(tv *chain.TaskView, me int) bool {
	if tv.Verify == ledger.VerifyTrajectory { // image tasks (trajectory.go): a vote, no dispute
		return tv.Status == ledger.StatusSegments.String() && me >= 1 && !tv.Executors[me].VoteCommitted
	}
	if tv.Verify != ledger.VerifySegments || tv.Segment == nil {
		return false
	}
	if tv.Status == ledger.StatusSegments.String() {
		return me >= 1 && !tv.Executors[me].VoteCommitted
	}
	d := tv.Dispute
	if tv.Status != ledger.StatusDispute.String() || d == nil {
		return false
	}
	if d.Phase == ledger.PhaseReferee {
		return d.Referee == n.key && !d.Resolved
	}
	return (me == 0 && !d.TrainerSent) || (me >= 1 && me == int(d.Challenger) && !d.ChallSent)
}

// segmentInvolved reports whether this node is an executor (trainer or verifier) of the
// training task id, as far as it knows (it was assigned the task, or found it among its open
// tasks at reconcile): a dispute event that names another node concerns it only then.
func (n *Node) segmentInvolved(id ledger.TaskID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.started[jobKey{id, 0}] || n.started[jobKey{id, 1}]
}

// reactSegment queues a training task on one of its verification or dispute events when
// this node may have a part in it: segments-open lists the verifiers, dispute-open names the
// challenger, referee-drawn the referee; the trainer and the verifiers are the task's
// executors. Nodes with no part do not even query the task.
func (n *Node) reactSegment(ev ledger.Event) {
	k := jobKey{ev.Task, ev.Round}
	var mine bool
	switch ev.Type {
	case ledger.EventSegmentsOpen:
		mine = slices.Contains(ev.Nodes, n.key)
	case ledger.EventRefereeDrawn:
		mine = ev.Node == n.key
	case ledger.EventDisputeOpen:
		mine = ev.Node == n.key || n.segmentInvolved(ev.Task)
	case ledger.EventBisectQuery:
		mine = n.segmentInvolved(ev.Task)
	}
	if mine {
		n.push(&n.segs, k)
	}
}

// reconcileSegment queues, after a start, a training task in verification or dispute in
// which this node has something to send (segmentTurn): as its trainer or a verifier, or as
// the referee of its dispute, who is not an executor (the ledger's open tasks list it while
// the referee's answer is due). It notes an executor's part (segmentInvolved).
func (n *Node) reconcileSegment(tv *chain.TaskView, k jobKey) {
	me := slices.IndexFunc(tv.Executors, func(e chain.ExecutorView) bool { return e.Node == n.key.String() })
	if me >= 0 && (tv.Verify == ledger.VerifySegments || tv.Verify == ledger.VerifyTrajectory) {
		n.mu.Lock()
		n.started[k] = true
		n.mu.Unlock()
	}
	if n.segmentTurn(tv, me) {
		n.logger.Info("reconcile: training task in verification or dispute", "task", tv.ID[:12], "executor", me,
			"referee", me < 0)
		n.push(&n.segs, k)
	}
}

// judgeSegments returns the vote of verifier me of training task tv: bit j set when its j-th
// pick (ledger.SegmentPicks) passed its re-execution on this node's profile. A checkpoint the
// trainer does not serve fails its segment.
func (n *Node) judgeSegments(ctx context.Context, k jobKey, tv *chain.TaskView, me int, task engine.Task, se SegmentEngine,
	series []byte, log *slog.Logger) (uint64, error) {
	rnd, _ := hex.DecodeString(tv.SegmentRand)
	picks := ledger.SegmentPicks([32]byte(rnd), k.task, *tv.Segment, me)
	log.Info("checking segments", "segments", fmt.Sprint(picks))
	var mask uint64
	for j, seg := range picks {
		t0 := time.Now()
		ck, _ := ledger.SeriesCheckpoint(series, tv.Segment.Segments, int(seg))
		state, err := n.fetchState(ctx, ck, tv.Executors[0].Node)
		if err != nil { // the trainer does not serve its checkpoint: the segment fails
			log.Info("segment: checkpoint not fetched, judged failed", "segment", seg, "err", err)
			continue
		}
		t1 := time.Now()
		ok, reason, err := se.VerifySegment(ctx, task, n.cfg.Profile, series, int(seg), state)
		if err != nil {
			return 0, err
		}
		// What verification costs: the checkpoint's fetch and the segment's re-execution.
		log.Info("segment checked", "segment", seg, "ok", ok, "state_bytes", len(state),
			"fetch_ms", float64(t1.Sub(t0).Microseconds())/1000, "verify_ms", float64(time.Since(t1).Microseconds())/1000)
		if ok {
			mask |= 1 << j
		} else {
			log.Info("segment rejected", "segment", seg, "reason", reason)
		}
	}
	return mask, nil
}

func (n *Node) segmentStep(ctx context.Context, k jobKey, log *slog.Logger) error {
	var tv chain.TaskView
	if err := n.client.QueryJSON(ctx, chain.QueryTask, k.task[:], &tv); err != nil {
		return err
	}
	me := slices.IndexFunc(tv.Executors, func(e chain.ExecutorView) bool { return e.Node == n.key.String() })
	if tv.Verify == ledger.VerifyTrajectory { // image tasks: trajectory.go
		return n.trajectoryVote(ctx, k, tv, me, log)
	}
	if !n.segmentTurn(&tv, me) {
		return nil // nothing (more) to send: no engine work, no dataset fetch
	}
	series, err := hex.DecodeString(tv.Executors[0].Fingerprint)
	if err != nil || len(series) == 0 {
		return fmt.Errorf("no revealed series")
	}
	task, se, err := n.segmentTask(ctx, tv)
	if err != nil {
		return err
	}
	ck := func(i int) [32]byte { d, _ := ledger.SeriesCheckpoint(series, tv.Segment.Segments, i); return d }
	switch {
	case tv.Status == ledger.StatusSegments.String() && me >= 1 && !tv.Executors[me].VoteCommitted:
		// The vote is committed now and revealed when the vote reveals open (castVote).
		return n.castVote(ctx, k, func() (uint64, uint64, error) {
			mask, err := n.judgeSegments(ctx, k, &tv, me, task, se, series, log)
			return mask, 0, err
		}, log)
	case tv.Status != ledger.StatusDispute.String() || tv.Dispute == nil:
		return nil
	}
	d := tv.Dispute
	seg := int(d.Segment)
	challenger := tv.Executors[d.Challenger].Node
	switch {
	case d.Phase == ledger.PhaseReferee && d.Referee == n.key:
		var agreed []byte
		if d.Step > 0 {
			if agreed, err = n.fetchState(ctx, d.Agreed, tv.Executors[0].Node, challenger); err != nil {
				return fmt.Errorf("referee: agreed state: %w", err)
			}
		}
		state, err := se.StateAt(ctx, task, agreed, int(d.Step), "")
		if err != nil {
			return err
		}
		return n.sendSeg(ctx, func(s *ledger.Signer) []byte { return s.Bisect(k.task, d.Step, sha256.Sum256(state)) })
	case d.Phase == ledger.PhaseReferee:
		return nil
	case me == 0 && !d.TrainerSent:
		start, err := n.fetchState(ctx, ck(seg), "") // its own checkpoint, from its store
		if err != nil {
			return err
		}
		return n.answer(ctx, k, se, task, start, int(d.Query), n.trainCheat())
	case me == int(d.Challenger) && !d.ChallSent:
		var start []byte // segment 0: the initial state, built here
		if seg > 0 {
			if start, err = n.fetchState(ctx, ck(seg), tv.Executors[0].Node); err != nil {
				return err
			}
		}
		return n.answer(ctx, k, se, task, start, int(d.Query), "")
	}
	return nil
}

// answer replays to step, keeps the state (the referee may fetch it) and sends its digest.
func (n *Node) answer(ctx context.Context, k jobKey, se SegmentEngine, task engine.Task, start []byte, step int, cheat string) error {
	state, err := se.StateAt(ctx, task, start, step, cheat)
	if err != nil {
		return err
	}
	if _, err := n.store.Put(ctx, state, store.ArtifactMeta{MediaType: "application/x-genquorum-train-state", TaskID: k.task.String()}); err != nil {
		return err
	}
	return n.sendSeg(ctx, func(s *ledger.Signer) []byte { return s.Bisect(k.task, uint32(step), sha256.Sum256(state)) })
}

func (n *Node) sendSeg(ctx context.Context, build func(*ledger.Signer) []byte) error {
	_, err := n.send(ctx, build)
	var rej *chain.TxRejectedError
	if errors.As(err, &rej) {
		return nil // answered already (a second event for the same phase)
	}
	return err
}

// fetchState returns the state with digest d from this node's store, or over p2p from the
// nodes (hex keys) listed, checked against d.
func (n *Node) fetchState(ctx context.Context, d [32]byte, from ...string) ([]byte, error) {
	if b, _, err := n.store.Get(store.Digest(d)); err == nil {
		return b, nil
	}
	if n.cfg.Host == nil {
		return nil, errors.New("no p2p host to fetch states")
	}
	var peers []peer.AddrInfo
	for _, f := range from {
		if f == "" {
			continue
		}
		key, _ := hex.DecodeString(f)
		var nv chain.NodeView
		if err := n.client.QueryJSON(ctx, chain.QueryNode, key, &nv); err != nil {
			return nil, err
		}
		for _, a := range nv.Addrs {
			if ai, err := p2p.ParseAddrInfo(a); err == nil {
				peers = append(peers, ai)
			}
		}
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("state %x: not held here, no peer to fetch it from", d[:6])
	}
	b, err := n.cfg.Host.FetchAny(ctx, peers, store.Digest(d))
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(b) != d {
		return nil, fmt.Errorf("state %x: fetched bytes do not match", d[:6])
	}
	return b, nil
}
