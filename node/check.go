package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"

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

// queueCheck notes a check round this node must vote in; Run starts the vote.
func (n *Node) queueCheck(k jobKey) {
	n.mu.Lock()
	n.checks = append(n.checks, k)
	n.mu.Unlock()
}

// takeChecks returns and clears the queued check rounds.
func (n *Node) takeChecks() []jobKey {
	n.mu.Lock()
	defer n.mu.Unlock()
	ks := n.checks
	n.checks = nil
	return ks
}

// vote judges every candidate of task k's check round and sends the Vote. Candidates are the
// distinct revealed fingerprints in executor order (ledger.Candidates); each is fetched from
// its first revealer over p2p (Config.Host), its token ids checked against the fingerprint,
// then verified by the task's engine on this node's profile.
func (n *Node) vote(ctx context.Context, k jobKey) {
	log := n.logger.With("task", k.task.String()[:12], "round", k.round)
	mask, err := n.judge(ctx, k, log)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("check round: no vote", "err", err)
		}
		return
	}
	if _, err := n.send(ctx, func(s *ledger.Signer) []byte { return s.Vote(k.task, mask) }); err != nil && ctx.Err() == nil {
		log.Warn("check round: vote not sent", "err", err)
		return
	}
	n.Stats.Voted.Add(1)
	log.Debug("voted", "valid", fmt.Sprintf("%b", mask))
}

func (n *Node) judge(ctx context.Context, k jobKey, log *slog.Logger) (uint64, error) {
	var tv chain.TaskView
	if err := n.client.QueryJSON(ctx, chain.QueryTask, k.task[:], &tv); err != nil {
		return 0, err
	}
	digest, _ := hex.DecodeString(tv.ModelDigest)
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return 0, err
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
	var seen []string
	var mask uint64
	for _, e := range tv.Executors {
		if !e.Revealed || contains(seen, e.Fingerprint) {
			continue
		}
		idx := len(seen)
		seen = append(seen, e.Fingerprint)
		fp, err := hex.DecodeString(e.Fingerprint)
		if err != nil {
			return 0, err
		}
		if bytes.Equal(fp, mine) {
			mask |= 1 << idx
			continue
		}
		if verifier == nil || n.cfg.Host == nil {
			continue // equality voter: only its own sequence
		}
		f, err := fetchFrom(ctx, n.client, n.cfg.Host, e, p, fp, 0, FetchOptions{})
		if err != nil {
			log.Info("check round: candidate not fetched, judged invalid", "candidate", idx, "err", err)
			continue
		}
		ok, err := verifier.VerifyTokens(ctx, task, f.Tokens)
		if err != nil {
			log.Info("check round: candidate not verifiable, judged invalid", "candidate", idx, "err", err)
			continue
		}
		if ok {
			mask |= 1 << idx
		}
	}
	return mask, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
