package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/ledger"
)

// TokenVerifier is implemented by engines that can check a claimed token sequence of a text
// task with a teacher-forced pass on this machine (engine/llm: VerifyGreedy or VerifySample at
// their default tolerances). A node votes in a check round (ledger: score-based verdicts) with
// the engine that serves the task's model; an engine without it votes by equality: valid only
// the candidate this node revealed itself.
type TokenVerifier interface {
	VerifyTokens(ctx context.Context, task engine.Task, claim []int32) (bool, error)
}

// TokenJudge is a TokenVerifier that can also abstain: JudgeTokens returns 1 (valid), -1
// (invalid) or 0 (unsure: the check landed in the band next to the tolerance where honest
// hardware may disagree; engine/llm.JudgeTokens). A node whose engine has it votes unsure on
// such candidates, so that it never firmly contradicts an honest voter on other hardware
// (ledger: contrary votes are slashed).
type TokenJudge interface {
	JudgeTokens(ctx context.Context, task engine.Task, claim []int32) (int, error)
}

// ballot is this node's vote in one check round (or as a verifier of a training or
// trajectory-verified task): what it committed, under which salt, and whether the vote
// reveals are open. It is saved in the store (key "vote/TASK/ROUND") until
// the task settles, so a restarted node can still reveal the vote it committed.
type ballot struct {
	Valid, Unsure uint64
	Salt          [32]byte
	RevealOpen    bool
}

func (k jobKey) voteKey() string { return "vote/" + k.task.String() + "/" + strconv.Itoa(int(k.round)) }

// voteRevealOpen records that task k's vote reveals are open and queues this node's reveal if
// it committed a vote.
func (n *Node) voteRevealOpen(k jobKey) {
	n.mu.Lock()
	b := n.ballots[k]
	if b != nil {
		b.RevealOpen = true
	}
	n.mu.Unlock()
	if b != nil {
		n.push(&n.voteReveals, k)
	}
}

// vote judges every candidate of task k's check round and commits the vote (castVote).
// Candidates are the distinct revealed fingerprints in executor order (ledger.Candidates);
// each is fetched from its first revealer over p2p (Config.Host), its token ids checked
// against the fingerprint (from the next revealer of the same fingerprint when they do not
// match or the fetch fails), then verified by the task's engine on this node's profile.
func (n *Node) vote(ctx context.Context, k jobKey) {
	log := n.logger.With("task", k.task.String()[:12], "round", k.round)
	err := n.castVote(ctx, k, func() (uint64, uint64, error) { return n.judge(ctx, k, log) }, log)
	if err != nil && ctx.Err() == nil {
		log.Warn("check round: no vote", "err", err)
	}
}

// castVote commits this node's vote in task k (a check round, or the verification of a
// training or trajectory-verified task) and reveals it once the vote reveals are open (at once
// if they opened while the commitment was on its way; otherwise on EventVoteRevealOpen, or at
// reconcile after a restart). judge gives the vote (valid, unsure), which is saved under a fresh
// random salt (the store's "vote/TASK/ROUND") before its VoteCommit is sent, so that a node
// restarted between commit and reveal still reveals. A vote saved earlier for k (the node
// restarted after saving it, or the task was queued twice) is committed again as saved and judge
// is not called: a new salt would not open a commitment that may already be on chain. A
// VoteCommit the chain refuses (committed already, or too late) is not an error.
func (n *Node) castVote(ctx context.Context, k jobKey, judge func() (valid, unsure uint64, err error), log *slog.Logger) error {
	b, c := n.ballotOf(k)
	if b == nil {
		valid, unsure, err := judge()
		if err != nil {
			return err
		}
		c = ballot{Valid: valid, Unsure: unsure}
		if _, err := rand.Read(c.Salt[:]); err != nil {
			return fmt.Errorf("node: vote salt: %w", err)
		}
		b = &ballot{Valid: valid, Unsure: unsure, Salt: c.Salt}
		if err := n.saveBallot(k, b); err != nil {
			return err
		}
	} else {
		log.Info("committing the saved vote", "valid", fmt.Sprintf("%b", c.Valid))
	}
	_, err := n.send(ctx, func(s *ledger.Signer) []byte { return s.VoteCommit(k.task, c.Valid, c.Unsure, c.Salt) })
	var rej *chain.TxRejectedError
	switch {
	case errors.As(err, &rej):
		log.Debug("vote commitment refused", "err", err)
	case err != nil:
		return fmt.Errorf("node: vote commitment not sent: %w", err)
	default:
		log.Debug("vote committed", "valid", fmt.Sprintf("%b", c.Valid), "unsure", fmt.Sprintf("%b", c.Unsure))
	}
	n.mu.Lock()
	open := b.RevealOpen
	n.mu.Unlock()
	if open {
		n.revealVote(ctx, k)
	}
	return nil
}

// ballotOf returns this node's ballot in task k (nil when it has none) and a copy of it taken
// under n.mu (voteRevealOpen sets RevealOpen concurrently).
func (n *Node) ballotOf(k jobKey) (*ballot, ballot) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.ballots[k]
	if b == nil {
		return nil, ballot{}
	}
	return b, *b
}

// revealVote sends the Vote opening this node's committed vote in task k (check round,
// training or trajectory-verified task).
func (n *Node) revealVote(ctx context.Context, k jobKey) {
	b, c := n.ballotOf(k)
	if b == nil {
		return
	}
	log := n.logger.With("task", k.task.String()[:12], "round", k.round)
	if _, err := n.send(ctx, func(s *ledger.Signer) []byte { return s.VoteReveal(k.task, c.Valid, c.Unsure, c.Salt) }); err != nil {
		if ctx.Err() == nil && !errors.Is(err, ledger.ErrCheck) {
			log.Warn("check round: vote not revealed", "err", err)
		}
		return
	}
	n.Stats.Voted.Add(1)
	log.Debug("voted", "valid", fmt.Sprintf("%b", c.Valid), "unsure", fmt.Sprintf("%b", c.Unsure))
}

func (n *Node) saveBallot(k jobKey, b *ballot) error {
	n.mu.Lock()
	n.ballots[k] = b
	raw, err := json.Marshal(b)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	if err := n.store.PutState(k.voteKey(), raw); err != nil {
		return fmt.Errorf("node: persist vote: %w", err)
	}
	return nil
}

// loadBallots restores the votes saved by saveBallot.
func (n *Node) loadBallots() error { return loadJobStates(n.store, "vote/", "vote", n.ballots) }

// forgetBallot deletes the vote of a settled task.
func (n *Node) forgetBallot(k jobKey) {
	n.mu.Lock()
	_, ok := n.ballots[k]
	delete(n.ballots, k)
	n.mu.Unlock()
	if ok {
		if err := n.store.DeleteState(k.voteKey()); err != nil {
			n.logger.Error("forget vote", "task", k.task.String()[:12], "err", err)
		}
	}
}

// judge returns the candidates this node finds valid and those it is unsure about. A
// LazyVoter skips the checks and finds only its own candidate valid.
func (n *Node) judge(ctx context.Context, k jobKey, log *slog.Logger) (valid, unsure uint64, err error) {
	var tv chain.TaskView
	if err := n.client.QueryJSON(ctx, chain.QueryTask, k.task[:], &tv); err != nil {
		return 0, 0, err
	}
	digest, _ := hex.DecodeString(tv.ModelDigest)
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return 0, 0, err
	}
	task := p.Task
	task.Profile = n.cfg.Profile
	var mine []byte
	for _, e := range tv.Executors {
		if e.Node == n.key.String() && e.Revealed {
			mine, _ = hex.DecodeString(e.Fingerprint)
		}
	}
	var verifier TokenVerifier
	if e, err := n.engines.ForTask(task); err == nil {
		verifier, _ = e.(TokenVerifier)
	}
	judgeOne := func(claim []int32) (int, error) {
		if j, ok := verifier.(TokenJudge); ok {
			return j.JudgeTokens(ctx, task, claim)
		}
		ok, err := verifier.VerifyTokens(ctx, task, claim)
		if ok {
			return 1, err
		}
		return -1, err
	}
	var seen []string
	for _, e := range tv.Executors {
		if !e.Revealed || contains(seen, e.Fingerprint) {
			continue
		}
		idx := len(seen)
		seen = append(seen, e.Fingerprint)
		fp, err := hex.DecodeString(e.Fingerprint)
		if err != nil {
			return 0, 0, err
		}
		if bytes.Equal(fp, mine) {
			valid |= 1 << idx
			continue
		}
		if verifier == nil || n.cfg.Host == nil || n.cfg.Behaviour == LazyVoter {
			continue // equality voter: only its own sequence
		}
		// The candidate is a token sequence, not its first revealer's copy: a revealer that
		// serves a tampered artifact (or none) must not make this node vote invalid a sequence
		// that another revealer of the same fingerprint serves intact.
		var f *Fetched
		for _, r := range tv.Executors {
			if !r.Revealed || r.Fingerprint != e.Fingerprint {
				continue
			}
			if f, err = fetchFrom(ctx, n.client, n.cfg.Host, r, p, fp, 0, FetchOptions{}); err == nil {
				break
			}
			log.Info("check round: candidate not fetched from a revealer", "candidate", idx, "revealer", r.Node[:8], "err", err)
		}
		if err != nil {
			log.Info("check round: candidate not fetched from any revealer, judged invalid", "candidate", idx, "err", err)
			continue
		}
		j, err := judgeOne(f.Tokens)
		if err != nil {
			log.Info("check round: candidate not verifiable, judged invalid", "candidate", idx, "err", err)
			continue
		}
		switch j {
		case 1:
			valid |= 1 << idx
		case 0:
			unsure |= 1 << idx
		}
	}
	return valid, unsure, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
