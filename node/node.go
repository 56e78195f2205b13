// Package node is the genquorum daemon's logic: it follows the chain, runs the tasks the
// ledger assigns to its key through an engine, commits to the fingerprint of each artifact,
// reveals it when the commit window closes, and keeps the artifacts in its local store to serve
// them to clients and peers.
//
// Life of an assignment, as the node sees it:
//
//	task-assigned (this key among the executors)
//	  -> run the engine task (with this node's profile) -> artifact -> fingerprint
//	  -> store the artifact, then persist (fingerprint, salt) BEFORE sending the commit,
//	     so a crash between commit and reveal cannot lose the opening
//	  -> commitment H(task, key, fingerprint, salt) queued in the outbox
//	committed (its own commitment on chain)
//	  -> opening marked committed
//	reveal-open (commit window closed)
//	  -> reveal (fingerprint, salt) queued in the outbox
//	verdict / no-verdict
//	  -> forget the opening; the artifact stays in the store
//
// The outbox sends everything ready as one ledger.Batch transaction (all the commitments and
// reveals of the moment, one signature and fee), flushed when work is queued and after every
// block, without waiting for inclusion: several batches are in flight with increasing nonces.
// An item leaves the outbox when the chain reports it (committed, revealed, or rejected with
// a reason); one not included within a few blocks is sent again in a later batch.
//
// A task that cannot be run (parameters that do not decode, a kind its model's engine does
// not run) gets a commitment to ledger.UnrunnableFingerprint: honest executors agree on it
// and are paid by the submitter.
//
// The node holds no settlement rule: it only acts on the ledger's events and state. At start
// it reconciles with the chain (Run, reconcile): assignments still in their commit window are
// run or committed from their saved opening, its own commitments on chain are revealed from
// their saved openings, openings of settled tasks are deleted; then it follows blocks from the
// tip. Nothing depends on a saved height, so a crash at any point loses no work that is still
// in its window. A node sees itself jailed (missed windows) and sends an unjail; it also
// unjails itself at start (Register).
//
// For tests and the demo a node can misbehave (Config.Behaviour): a guesser runs a different
// seed, a copier commits another executor's commitment bytes, a lazy node commits and never
// reveals, a wrong-model node runs another model of the same kind (see runOtherModel), a crashed node
// registers and then does nothing, and a tamperer runs the task honestly, commits to and
// reveals the honest fingerprint, but stores, names in its reveal and serves a doctored
// artifact (a text record with one token id changed, or other bytes with the last one
// flipped). The ledger cannot see artifacts, so it counts the tamperer as agreeing; Fetch
// catches it by recomputing the fingerprint of what it serves.
//
// # Votes
//
// A node votes as an executor that revealed in a check round (EventCheckOpen: check.go, the
// candidates' teacher-forced checks) and as a verifier of a training task or of a
// trajectory-verified image task (EventSegmentsOpen: segments.go and trajectory.go, re-running
// its picked segments). Every vote goes the same way (castVote): the judged vote is saved with
// a fresh random salt (a ballot, store key "vote/TASK/ROUND") BEFORE its VoteCommit is sent,
// and revealed (Vote) on EventVoteRevealOpen, or by reconcile when the node restarts during
// the vote reveals. A ballot saved earlier is committed again as saved, never judged or salted
// anew, so a restart cannot commit a vote that the saved salt would not open. Ballots are
// deleted when their task settles. In a training task's dispute the trainer, the challenger and
// the referee answer the ledger's queries with state digests (segments.go).
//
// # Capacity
//
// The node registers Config.Capacity, the most assignments it holds open at once. While it
// runs, unless Config.FixedCapacity, it re-announces a smaller capacity (RegisterNode without
// stake) when its recent runs are too slow to commit that many within the commit window's
// time floor, and a larger one up to Config.Capacity when they speed up (intake.go). A run
// whose commit window closes (or whose task settles) while it runs is cancelled, so that the
// assignments queued behind it get the time.
//
// # Stored artifacts
//
// The store keeps what the node revealed the digest of: the engine's bytes for image and
// vector tasks, and for text tasks (scheme text:tokens) a fingerprint.TextRecord, the text
// together with its token ids, because the token fingerprint cannot be recomputed from the
// text alone. Peers fetch these bytes by digest over package p2p; see Fetch.
package node

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/store"
)

// Behaviour says how a node acts. Only Honest is for real use.
type Behaviour string

// The behaviours.
const (
	Honest     Behaviour = "honest"
	Guesser    Behaviour = "guesser"     // sees the prompt, runs a different seed
	Copier     Behaviour = "copier"      // commits another executor's commitment bytes
	Lazy       Behaviour = "lazy"        // commits, never reveals
	WrongModel Behaviour = "wrong-model" // runs another model than the task names
	Crashed    Behaviour = "crashed"     // registers, then never acts
	Tamperer   Behaviour = "tamperer"    // commits and reveals the honest fingerprint, serves a doctored artifact
	// LazyVoter runs its tasks honestly but votes in check rounds without checking: only its
	// own candidate valid. It differs from Honest only when a check round opens, so it is not
	// in Behaviours (which the demo runs on every task); ParseBehaviour accepts it.
	LazyVoter Behaviour = "lazy-voter"
)

// Behaviours lists every behaviour of an executor's output (all but LazyVoter).
var Behaviours = []Behaviour{Honest, Guesser, Copier, Lazy, WrongModel, Crashed, Tamperer}

// ParseBehaviour reads a behaviour name.
func ParseBehaviour(s string) (Behaviour, error) {
	for _, b := range append(slices.Clip(Behaviours), LazyVoter) {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("node: unknown behaviour %q", s)
}

// Config is one node's configuration.
type Config struct {
	// Key is the node's identity on the ledger (and, in package p2p, on the network).
	Key ed25519.PrivateKey
	// Stake is bonded at registration.
	Stake uint64
	// Profile is the numeric profile this node's hardware imitates; every task runs with it.
	Profile string
	// Class is a free label of the hardware class, recorded on the ledger.
	Class string
	// Behaviour is Honest unless testing.
	Behaviour Behaviour
	// Workers is how many tasks run at once (default 1).
	Workers int
	// Capacity is the most open assignments the node declares on the ledger (RegisterNode
	// Capacity): the ledger assigns it no more. 0 means DefaultCapacityPerWorker * Workers.
	// While it runs, the node declares less when its runs are too slow to commit that many
	// within the commit window's time floor (intake.go), unless FixedCapacity.
	Capacity uint32
	// FixedCapacity keeps the declared capacity at Capacity whatever the node's run time.
	FixedCapacity bool
	// Fingerprint bounds images when fingerprinting artifacts.
	Fingerprint fingerprint.Options
	// Addrs are the libp2p multiaddrs (with /p2p/ID) where this node serves its artifacts,
	// announced on the ledger at registration so that clients can fetch them.
	Addrs []string
	// Observer, if set, is told what the node sees and does (package metrics implements it).
	Observer Observer
	// Host, when set, fetches other executors' artifacts to check them in a check round
	// (check.go); without it the node votes by equality.
	Host *p2p.Host
	// TrainCheat, for tests and demos, makes the node cheat as the trainer of training tasks
	// with segment verification (a train.ParseCheat name: skip-steps, fewer-steps, other-lr,
	// other-seed, noise-weights, copy); as a verifier or referee it stays honest.
	TrainCheat string
}

// Observer is told what a node sees and does, for monitoring. Its methods are called from the
// node's goroutines, must be safe for concurrent use and must return quickly.
type Observer interface {
	// Block is called with the ledger activity of each block the node follows (events about
	// every node, not only this one), before the node acts on it.
	Block(act *chain.BlockActivity)
	// Queue is called when the number of assignments waiting for a worker changes by delta.
	Queue(delta int)
	// EngineStarted and EngineDone bracket one engine run for model.
	EngineStarted(model string)
	EngineDone(model string, d time.Duration, err error)
	// TxQueued is called when a commitment or reveal (kind "commit" or "reveal") of this node
	// for task enters the outbox; its inclusion shows in a later Block.
	TxQueued(kind string, task ledger.TaskID)
}

type nopObserver struct{}

func (nopObserver) Block(*chain.BlockActivity)              {}
func (nopObserver) Queue(int)                               {}
func (nopObserver) EngineStarted(string)                    {}
func (nopObserver) EngineDone(string, time.Duration, error) {}
func (nopObserver) TxQueued(string, ledger.TaskID)          {}

// Validate checks the configuration.
func (c Config) Validate() error {
	if len(c.Key) != ed25519.PrivateKeySize {
		return errors.New("node: config: no ed25519 key")
	}
	if c.Behaviour == "" {
		return errors.New("node: config: no behaviour (use honest)")
	}
	if _, err := ParseBehaviour(string(c.Behaviour)); err != nil {
		return err
	}
	if c.Workers < 0 {
		return fmt.Errorf("node: config: %d workers", c.Workers)
	}
	if c.Capacity > 0 && int64(c.Capacity) < int64(c.Workers) {
		return fmt.Errorf("node: config: capacity %d below %d workers", c.Capacity, c.Workers)
	}
	return nil
}

// DefaultCapacityPerWorker sets the default capacity: open assignments per worker. An
// assignment stays open until it settles (after its reveal window), and runs take a fraction
// of the commit window, so a worker can hold several.
const DefaultCapacityPerWorker = 32

// Stats count what a node did.
type Stats struct {
	Assigned, Committed, Revealed, Failed atomic.Int64
	Voted                                 atomic.Int64 // votes sent in check rounds
}

// Node is a running daemon. Create it with New, then call Register once and Run.
type Node struct {
	cfg     Config
	key     ledger.PubKey
	client  *chain.Client
	engines *engine.Registry
	store   *store.Store
	logger  *slog.Logger

	sendMu      sync.Mutex // serialises signing and sending
	signer      *ledger.Signer
	nonceSynced bool
	out         *outbox

	mu       sync.Mutex
	openings map[jobKey]*opening // committed, not yet revealed
	copied   map[jobKey][32]byte // copier: commitments seen from other executors
	started  map[jobKey]bool     // assignments queued for a worker (each runs once)
	// Job queues (push, take), each drained by Run at every block: check rounds to vote in
	// (check.go), training and trajectory-verified tasks with something to do (segments.go),
	// committed votes whose reveal window opened, to send.
	checks, segs, voteReveals []jobKey
	ballots                   map[jobKey]*ballot // votes committed (check rounds, segments, trajectories), not yet settled

	running     map[jobKey]context.CancelFunc // assignments a worker runs now (abandon cancels)
	intake      *intake                       // the capacity to declare (intake.go)
	commitFloor time.Duration                 // the ledger's MinCommitMillis, read at Run

	traceMu sync.Mutex
	traces  map[jobKey]*jobTrace // assignments on their way to an included commitment (trace.go)
	now     func() time.Time

	Stats Stats
}

type jobKey struct {
	task  ledger.TaskID
	round uint8
}

func (k jobKey) stateKey() string { return "job/" + k.task.String() + "/" + strconv.Itoa(int(k.round)) }

// parseJobKey is the inverse of stateKey.
func parseJobKey(key string) (jobKey, bool) {
	rest, ok := strings.CutPrefix(key, "job/")
	idHex, roundStr, ok2 := strings.Cut(rest, "/")
	id, err := hex.DecodeString(idHex)
	round, rerr := strconv.Atoi(roundStr)
	if !ok || !ok2 || err != nil || rerr != nil || len(id) != 32 || round < 0 || round > 255 {
		return jobKey{}, false
	}
	return jobKey{task: ledger.TaskID(id), round: uint8(round)}, true
}

// opening is what a reveal needs; it is persisted before the commit is sent.
type opening struct {
	Fingerprint []byte       `json:"fingerprint"`
	Salt        [32]byte     `json:"salt"`
	Artifact    store.Digest `json:"artifact"`
	Committed   bool         `json:"committed"`
	RevealOpen  bool         `json:"reveal_open"`
	Revealed    bool         `json:"revealed"`
	Unrunnable  bool         `json:"unrunnable,omitempty"` // Fingerprint is ledger.UnrunnableFingerprint
}

// New returns a node. chainID is the ledger's chain ID (transactions are signed for it).
func New(cfg Config, chainID string, client *chain.Client, engines *engine.Registry, st *store.Store, logger *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = uint32(DefaultCapacityPerWorker * cfg.Workers)
	}
	n := &Node{
		cfg: cfg, client: client, engines: engines, store: st,
		signer: ledger.NewSigner(cfg.Key, chainID), openings: map[jobKey]*opening{}, ballots: map[jobKey]*ballot{}, copied: map[jobKey][32]byte{},
		started: map[jobKey]bool{}, out: newOutbox(), traces: map[jobKey]*jobTrace{}, now: time.Now,
		intake: newIntake(), running: map[jobKey]context.CancelFunc{},
	}
	n.key = n.signer.Key()
	n.logger = logger.With("node", n.key.String()[:8])
	return n, nil
}

// Key returns the node's ledger key.
func (n *Node) Key() ledger.PubKey { return n.key }

// Behaviour returns how the node acts.
func (n *Node) Behaviour() Behaviour { return n.cfg.Behaviour }

// Register registers the node on the ledger, with its engines, models, addresses and
// capacity. A node already registered only re-announces them when its addresses, capacity or
// task kinds changed (e.g. after a restart on new ports), bonding nothing more, and sends an
// unjail if it was jailed. The node's account must hold at least Stake.
func (n *Node) Register(ctx context.Context) error {
	reg := n.registration()
	var nv chain.NodeView
	registered := n.client.QueryJSON(ctx, chain.QueryNode, n.key[:], &nv) == nil
	if registered {
		if nv.Jailed {
			n.unjail(ctx)
		}
		reg.Stake = 0
	}
	if registered && slices.Equal(nv.Addrs, n.cfg.Addrs) && nv.Capacity == n.cfg.Capacity && slices.Equal(nv.Kinds, reg.Kinds) {
		return nil
	}
	if _, err := n.send(ctx, func(s *ledger.Signer) []byte { return s.RegisterNode(reg) }); err != nil {
		return fmt.Errorf("node: register: %w", err)
	}
	n.logger.Info("registered", "stake", n.cfg.Stake, "profile", n.cfg.Profile, "models", len(reg.Models))
	return nil
}

// registration is the node's RegisterNode with its configured stake and capacity.
func (n *Node) registration() ledger.RegisterNode {
	reg := ledger.RegisterNode{Stake: n.cfg.Stake, Hardware: n.cfg.Profile, Class: n.cfg.Class, Addrs: n.cfg.Addrs, Capacity: n.cfg.Capacity}
	reg.Engines, reg.Models, reg.Kinds = servedModels(n.engines)
	return reg
}

// servedModels lists what a node registers: its engines' names, the models they serve (each
// once, sorted) and, per model, the kinds of task its engines run on it, comma-separated in
// sorted order ("" when an engine serving it does not say: the ledger then takes every kind).
func servedModels(r *engine.Registry) (engines []string, models []ledger.Model, kinds []string) {
	byModel := map[ledger.Model][]string{}
	unknown := map[ledger.Model]bool{}
	for _, e := range r.Engines() {
		engines = append(engines, e.Name())
		ks := engine.KindsOf(e)
		for _, m := range e.Models() {
			lm := ledger.Model{Name: m.Name, Digest: m.Digest}
			if _, ok := byModel[lm]; !ok {
				models = append(models, lm)
				byModel[lm] = nil
			}
			if ks == nil {
				unknown[lm] = true
			}
			for _, k := range ks {
				if !slices.Contains(byModel[lm], string(k)) {
					byModel[lm] = append(byModel[lm], string(k))
				}
			}
		}
	}
	slices.SortFunc(models, func(a, b ledger.Model) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return bytes.Compare(a.Digest[:], b.Digest[:])
	})
	for _, m := range models {
		ks := byModel[m]
		slices.Sort(ks)
		if unknown[m] {
			ks = nil
		}
		kinds = append(kinds, strings.Join(ks, ","))
	}
	return engines, models, kinds
}

// send signs one transaction with the next nonce and waits for its inclusion (registration,
// unjailing, a copier's commitment; commitments and reveals go through the outbox). A nonce
// conflict (the account moved on, e.g. after a restart) resynchronises the nonce and retries.
func (n *Node) send(ctx context.Context, build func(*ledger.Signer) []byte) (*chain.Inclusion, error) {
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	for attempt := 0; ; attempt++ {
		if err := n.syncNonce(ctx, attempt > 0); err != nil {
			return nil, err
		}
		in, err := n.client.Submit(ctx, build(n.signer))
		var rej *chain.TxRejectedError
		if errors.As(err, &rej) && rej.Code == ledger.Code(ledger.ErrNonce) && attempt < 3 {
			continue
		}
		return in, err
	}
}

const stateHeight = "height"

// Run follows the chain until ctx is done, acting on the ledger's events.
//
// It first reconciles with the chain (see reconcile), then follows blocks from the height at
// which it reconciled. Commitments and reveals go into an outbox that is flushed as one Batch
// transaction whenever work is ready and after every block, without waiting for inclusion;
// items are removed when the chain reports them and sent again if a few blocks pass without.
// The saved height only records the last block followed (the store check compares it with the
// chain); no work depends on it, since reconciliation reads the ledger's own state.
func (n *Node) Run(ctx context.Context) error {
	if n.cfg.Behaviour == Crashed {
		n.logger.Info("crashed: not acting on anything")
		<-ctx.Done()
		return nil
	}
	if err := n.loadOpenings(); err != nil {
		return err
	}
	if err := n.serveDatasets(ctx); err != nil {
		return err
	}
	if err := n.loadBallots(); err != nil {
		return err
	}
	height, err := n.client.Height(ctx)
	if err != nil {
		return fmt.Errorf("node: chain height: %w", err)
	}
	// Follow one block behind the tip (see below), and re-read the block at which the state
	// was reconciled: acting twice on an event is harmless.
	height = max(height-2, 0)
	work, err := n.reconcile(ctx)
	if err != nil {
		return err
	}
	jobs := make(chan jobKey, 1<<14)
	g, ctx := errgroup.WithContext(ctx)
	// The ledger may have jailed this node while it was down, and Register may have looked
	// before the local validator caught up with the chain (it syncs after a restart): unjail
	// now if the state says so. From height on, the loop below sees jailings as they happen.
	var self chain.NodeView
	if err := n.client.QueryJSON(ctx, chain.QueryNode, n.key[:], &self); err == nil && self.Jailed {
		g.Go(func() error { n.unjail(ctx); return nil })
	}
	// The declared capacity follows the node's run time against the commit window's time
	// floor (intake.go); a chain that does not answer its params keeps the configured one.
	var params ledger.Params
	if err := n.client.QueryJSON(ctx, chain.QueryParams, nil, &params); err != nil {
		n.logger.Warn("ledger params not read: the declared capacity stays fixed", "err", err)
	} else if !n.cfg.FixedCapacity {
		n.commitFloor = time.Duration(params.MinCommitMillis) * time.Millisecond
		n.intake.setDeclared(cmp.Or(self.Capacity, n.cfg.Capacity))
		g.Go(func() error { n.announceCapacity(ctx); return nil })
	}
	for range n.cfg.Workers {
		g.Go(func() error {
			for k := range jobs {
				n.cfg.Observer.Queue(-1)
				n.execute(ctx, k)
			}
			return nil
		})
	}
	var tip atomic.Int64
	tip.Store(height)
	g.Go(func() error { // the sender: flush when work is queued
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-n.out.kick:
				n.flush(ctx, tip.Load())
			}
		}
	})
	g.Go(func() error {
		defer close(jobs)
		queue := func(ks []jobKey) error {
			for _, k := range ks {
				n.cfg.Observer.Queue(1)
				select {
				case jobs <- k:
				case <-ctx.Done():
					n.cfg.Observer.Queue(-1)
					return ctx.Err()
				}
			}
			return nil
		}
		if err := queue(work); err != nil {
			return err
		}
		for {
			// Block h+1 exists only once h's results are saved: follow one block behind the
			// tip so that results are never asked for before they exist.
			if err := n.client.WaitHeight(ctx, height+2); err != nil {
				return err
			}
			act, err := n.client.Activity(ctx, height+1)
			if err != nil {
				return err
			}
			n.cfg.Observer.Block(act)
			work, jailed := n.react(act)
			if jailed {
				g.Go(func() error { n.unjail(ctx); return nil })
			}
			for _, k := range n.take(&n.checks) {
				g.Go(func() error { n.vote(ctx, k); return nil })
			}
			for _, k := range n.take(&n.segs) {
				g.Go(func() error { n.segmentWork(ctx, k); return nil })
			}
			for _, k := range n.take(&n.voteReveals) {
				g.Go(func() error { n.revealVote(ctx, k); return nil })
			}
			if err := queue(work); err != nil {
				return err
			}
			height++
			tip.Store(height + 1)
			n.out.wake() // resend what a few blocks did not include
			if err := n.store.PutState(stateHeight, []byte(strconv.FormatInt(height, 10))); err != nil {
				return fmt.Errorf("node: save height: %w", err)
			}
		}
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// reconcile brings the node in line with the ledger after a start (or a crash): every open
// assignment of this key whose commit window is open and that it has not committed is run
// (returned as work), or committed from its saved opening if it got that far; every
// commitment of its own on chain is revealed from its saved opening once the reveal window is
// open; openings of tasks that are settled (or unknown to this chain) are deleted.
func (n *Node) reconcile(ctx context.Context) ([]jobKey, error) {
	var open []string
	if err := n.client.QueryJSON(ctx, chain.QueryOpen, n.key[:], &open); err != nil {
		return nil, fmt.Errorf("node: reconcile: open tasks: %w", err)
	}
	me := n.key.String()
	var work []jobKey
	seen := map[jobKey]bool{}
	for _, idHex := range open {
		b, err := hex.DecodeString(idHex)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("node: reconcile: task id %q", idHex)
		}
		var tv chain.TaskView
		if err := n.client.QueryJSON(ctx, chain.QueryTask, b, &tv); err != nil {
			return nil, fmt.Errorf("node: reconcile: %w", err)
		}
		k := jobKey{ledger.TaskID(b), tv.Round}
		seen[k] = true
		var x *chain.ExecutorView
		for i := range tv.Executors {
			if tv.Executors[i].Node == me {
				x = &tv.Executors[i]
			}
		}
		n.reconcileSegment(&tv, k) // a dispute's referee is no executor
		if x == nil {
			continue
		}
		if tv.Status == ledger.StatusCheck.String() && x.Revealed && !x.VoteCommitted {
			n.logger.Info("reconcile: voting in the check round", "task", idHex[:12])
			n.push(&n.checks, k)
		}
		if (tv.Status == ledger.StatusCheckReveal.String() || tv.Status == ledger.StatusSegmentsReveal.String()) &&
			x.VoteCommitted && !x.Voted {
			n.logger.Info("reconcile: revealing the committed vote", "task", idHex[:12], "status", tv.Status)
			n.voteRevealOpen(k)
		}
		n.mu.Lock()
		o := n.openings[k]
		n.mu.Unlock()
		switch {
		case !x.Committed && tv.Status == ledger.StatusCommit.String() && o != nil:
			n.logger.Info("reconcile: committing from the saved opening", "task", idHex[:12])
			n.started[k] = true
			n.queueCommit(k, o)
		case !x.Committed && tv.Status == ledger.StatusCommit.String():
			n.logger.Info("reconcile: running an assignment", "task", idHex[:12])
			n.started[k] = true
			n.Stats.Assigned.Add(1)
			work = append(work, k)
		case x.Committed && o == nil:
			n.logger.Error("reconcile: committed but the opening is lost: cannot reveal", "task", idHex[:12])
		case x.Committed:
			n.started[k] = true
			n.mu.Lock()
			o.Committed = true
			o.RevealOpen = tv.Status == ledger.StatusReveal.String()
			o.Revealed = x.Revealed // a round that escalates opens its reveals again
			n.mu.Unlock()
			if err := n.saveOpening(k, o); err != nil {
				return nil, err
			}
			if o.RevealOpen && !x.Revealed {
				n.logger.Info("reconcile: revealing", "task", idHex[:12])
				n.queueReveal(k)
			}
		}
	}
	n.mu.Lock()
	var stale []jobKey
	for k := range n.openings {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	n.mu.Unlock()
	for _, k := range stale {
		var tv chain.TaskView
		err := n.client.QueryJSON(ctx, chain.QueryTask, k.task[:], &tv)
		settled := err == nil && (tv.Status == ledger.StatusAccepted.String() || tv.Status == ledger.StatusNoVerdict.String() || tv.Round != k.round)
		if err != nil && !strings.Contains(err.Error(), "unknown task") {
			return nil, fmt.Errorf("node: reconcile: %w", err)
		}
		if settled || err != nil {
			n.forget(k)
		}
	}
	return work, nil
}

func (n *Node) loadHeight() (int64, error) {
	b, err := n.store.State(stateHeight)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("node: load height: %w", err)
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// loadOpenings restores the openings saved before their commitments were sent.
func (n *Node) loadOpenings() error { return loadJobStates(n.store, "job/", "opening", n.openings) }

// loadJobStates decodes the store's JSON entries under prefix (keys prefix+TASK/ROUND) into m,
// by job; an entry whose key names no job was not written for one and is skipped. what names
// the entries in errors.
func loadJobStates[T any](st *store.Store, prefix, what string, m map[jobKey]*T) error {
	entries, err := st.States(prefix)
	if err != nil {
		return fmt.Errorf("node: load %ss: %w", what, err)
	}
	for _, e := range entries {
		k, ok := parseJobKey("job/" + strings.TrimPrefix(e.Key, prefix))
		if !ok {
			continue
		}
		var v T
		if err := json.Unmarshal(e.Value, &v); err != nil {
			return fmt.Errorf("node: %s %s: %w", what, e.Key, err)
		}
		m[k] = &v
	}
	return nil
}

// forget deletes an opening and anything queued for its job.
func (n *Node) forget(k jobKey) {
	n.mu.Lock()
	_, mine := n.openings[k]
	delete(n.openings, k)
	delete(n.copied, k)
	delete(n.started, k)
	n.mu.Unlock()
	n.out.doneCommit(k)
	n.out.doneReveal(k)
	if mine {
		if err := n.store.DeleteState(k.stateKey()); err != nil {
			n.logger.Error("forget opening", "task", k.task.String()[:12], "err", err)
		}
	}
}

// react handles one block's activity: it returns the assignments to run, updates openings and
// the outbox from this node's included commitments and reveals, queues reveals whose window
// opened, forgets settled tasks, and reports whether this node was jailed.
func (n *Node) react(act *chain.BlockActivity) (work []jobKey, jailed bool) {
	if n.cfg.Behaviour == Copier {
		n.noteCommitments(act)
	}
	for _, ev := range act.Events {
		k := jobKey{ev.Task, ev.Round}
		switch ev.Type {
		case ledger.EventTaskAssigned:
			if !slices.Contains(ev.Nodes, n.key) {
				continue
			}
			n.mu.Lock()
			dup := n.started[k]
			n.started[k] = true
			n.mu.Unlock()
			if !dup {
				n.Stats.Assigned.Add(1)
				n.traceSeen(k, act.Height, act.Time)
				work = append(work, k)
			}
		case ledger.EventCommitted:
			if ev.Node == n.key {
				n.traceEnd(k, true, act.Height, act.Time)
				n.committed(k)
			}
		case ledger.EventRevealed:
			if ev.Node != n.key {
				continue
			}
			if n.out.doneReveal(k) {
				n.Stats.Revealed.Add(1)
			}
			n.mu.Lock()
			if o := n.openings[k]; o != nil {
				o.Revealed = true
			}
			n.mu.Unlock()
		case ledger.EventItemRejected:
			if ev.Node != n.key {
				continue
			}
			switch ev.Amount {
			case uint64(ledger.Code(ledger.ErrAlreadyCommitted)):
				n.traceEnd(k, true, act.Height, act.Time)
				n.committed(k)
			case uint64(ledger.Code(ledger.ErrAlreadyRevealed)):
				n.out.doneReveal(k)
			default:
				n.traceEnd(k, false, act.Height, act.Time)
				if n.out.doneCommit(k) || n.out.doneReveal(k) {
					n.Stats.Failed.Add(1)
					n.logger.Warn("batch item rejected", "task", k.task.String()[:12], "err", ev.Reason)
				}
			}
		case ledger.EventRevealOpen:
			n.traceEnd(k, false, act.Height, act.Time) // the commit window closed
			n.abandon(k)
			n.mu.Lock()
			o := n.openings[k]
			if o != nil {
				o.RevealOpen = true
			}
			n.mu.Unlock()
			// A round that escalated (or a spot check that drew verifiers after this node revealed)
			// opens its reveals again: this node's reveal is already on chain.
			if o != nil && o.Committed && !o.Revealed {
				n.queueReveal(k)
			}
		case ledger.EventCheckOpen:
			if slices.Contains(ev.Nodes, n.key) {
				n.push(&n.checks, k)
			}
		case ledger.EventSegmentsOpen, ledger.EventDisputeOpen, ledger.EventBisectQuery, ledger.EventRefereeDrawn:
			n.reactSegment(ev)
		case ledger.EventVoteRevealOpen:
			n.voteRevealOpen(k)
		case ledger.EventVerdict, ledger.EventNoVerdict:
			n.traceEnd(k, false, act.Height, act.Time)
			n.abandon(k)
			n.forget(k)
			n.forgetBallot(k)
		case ledger.EventJailed:
			jailed = jailed || ev.Node == n.key
		}
	}
	return work, jailed
}

// committed records that this node's commitment for k is on chain, and queues the reveal if
// its window is already open.
func (n *Node) committed(k jobKey) {
	if n.out.doneCommit(k) {
		n.Stats.Committed.Add(1)
	}
	n.mu.Lock()
	o := n.openings[k]
	revealNow := false
	if o != nil && !o.Committed {
		o.Committed = true
		revealNow = o.RevealOpen
	}
	n.mu.Unlock()
	if o != nil {
		if err := n.saveOpening(k, o); err != nil {
			n.logger.Error("save opening", "task", k.task.String()[:12], "err", err)
		}
	}
	if revealNow {
		n.queueReveal(k)
	}
}

// queueCommit puts the commitment of a saved opening in the outbox.
func (n *Node) queueCommit(k jobKey, o *opening) {
	n.cfg.Observer.TxQueued("commit", k.task)
	n.traceStep(k, func(t *jobTrace) { t.queued = n.now() })
	n.out.addCommit(k, ledger.Commit{Task: k.task, Commitment: ledger.CommitmentFor(k.task, n.key, o.Fingerprint, o.Salt)})
}

// queueReveal puts the reveal of a committed opening in the outbox (a lazy node never does).
func (n *Node) queueReveal(k jobKey) {
	if n.cfg.Behaviour == Lazy {
		return
	}
	n.mu.Lock()
	o := n.openings[k]
	n.mu.Unlock()
	if o == nil {
		return
	}
	n.cfg.Observer.TxQueued("reveal", k.task)
	n.out.addReveal(k, ledger.Reveal{Task: k.task, Fingerprint: o.Fingerprint, Salt: o.Salt, Artifact: o.Artifact})
}

// push adds k to the job queue q (n.checks, n.segs or n.voteReveals); Run takes it at the
// next block and starts its work.
func (n *Node) push(q *[]jobKey, k jobKey) {
	n.mu.Lock()
	*q = append(*q, k)
	n.mu.Unlock()
}

// take returns and clears the job queue q.
func (n *Node) take(q *[]jobKey) []jobKey {
	n.mu.Lock()
	defer n.mu.Unlock()
	ks := *q
	*q = nil
	return ks
}

// unjail sends an unjail transaction: the node is evidently running again.
func (n *Node) unjail(ctx context.Context) {
	if _, err := n.send(ctx, func(s *ledger.Signer) []byte { return s.Unjail() }); err != nil && ctx.Err() == nil {
		n.logger.Warn("unjail failed", "err", err)
		return
	}
	n.logger.Warn("this node was jailed for missed windows; sent unjail")
}

// noteCommitments records, for a copier, the commitments other executors sent.
func (n *Node) noteCommitments(act *chain.BlockActivity) {
	for _, raw := range act.Txs {
		tx, err := ledger.DecodeTx(raw)
		if err != nil || tx.Signer == n.key {
			continue
		}
		var cs []ledger.Commit
		switch b := tx.Body.(type) {
		case *ledger.Commit:
			cs = []ledger.Commit{*b}
		case *ledger.Batch:
			cs = b.Commits
		}
		n.mu.Lock()
		for _, c := range cs {
			for k := range n.copied {
				if k.task == c.Task {
					n.copied[k] = c.Commitment
				}
			}
		}
		n.mu.Unlock()
	}
}

// abandon cancels the run of k, if a worker runs it: its commit window closed (or the task
// settled), so a commitment could no longer be accepted, and the time is better spent on the
// assignments queued behind it, whose windows are still open. (One that is still queued is
// skipped when a worker takes it: commitTo finds the window closed.)
func (n *Node) abandon(k jobKey) {
	n.mu.Lock()
	cancel := n.running[k]
	n.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// execute runs one assignment up to its commitment (queued in the outbox).
func (n *Node) execute(ctx context.Context, k jobKey) {
	log := n.logger.With("task", k.task.String()[:12], "round", k.round)
	start := n.now()
	n.traceStep(k, func(t *jobTrace) { t.started = start })
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.mu.Lock()
	n.running[k] = cancel
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.running, k)
		n.mu.Unlock()
	}()
	if err := n.commitTo(jctx, k, log); err != nil {
		if ctx.Err() == nil && jctx.Err() != nil {
			n.Stats.Failed.Add(1)
			log.Warn("commit window closed while running: run abandoned", "ran_ms", n.now().Sub(start).Milliseconds())
		} else if ctx.Err() == nil {
			n.Stats.Failed.Add(1)
			log.Warn("assignment failed", "err", err)
		}
		return
	}
	n.noteRun(n.now().Sub(start))
}

func (n *Node) commitTo(ctx context.Context, k jobKey, log *slog.Logger) error {
	var tv chain.TaskView
	if err := n.client.QueryJSON(ctx, chain.QueryTask, k.task[:], &tv); err != nil {
		return err
	}
	if tv.Round != k.round || tv.Status != ledger.StatusCommit.String() {
		return fmt.Errorf("commit window of round %d closed (task %s, round %d)", k.round, tv.Status, tv.Round)
	}
	if n.cfg.Behaviour == Copier {
		return n.copyCommitment(ctx, k, tv, log)
	}
	var o *opening
	var err error
	if tv.Verify == ledger.VerifySegments { // only the trainer (executor 0) commits
		if len(tv.Executors) == 0 || tv.Executors[0].Node != n.key.String() {
			return nil
		}
		if o, err = n.trainSegments(ctx, tv); err != nil {
			return err
		}
	} else if tv.Verify == ledger.VerifyTrajectory { // only the generator (executor 0) commits
		if len(tv.Executors) == 0 || tv.Executors[0].Node != n.key.String() {
			return nil
		}
		o, err = n.generateTrajectory(ctx, tv)
	} else {
		o, err = n.runTask(ctx, k, tv)
	}
	if errors.Is(err, errUnrunnable) && ctx.Err() == nil {
		// Every honest executor finds the same: commit to the unrunnable fingerprint, so
		// that a majority is paid by the submitter instead of being slashed (ledger doc).
		log.Warn("task cannot be run: committing to the unrunnable fingerprint", "err", err)
		o, err = &opening{Fingerprint: ledger.UnrunnableFingerprint(k.task, tv.FingerprintLen), Unrunnable: true}, nil
	}
	if err != nil {
		return err
	}
	if _, err := rand.Read(o.Salt[:]); err != nil {
		return err
	}
	if err := n.saveOpening(k, o); err != nil {
		return err
	}
	if !o.Unrunnable {
		if err := n.store.PutState("artifact/"+k.task.String(), o.Artifact[:]); err != nil {
			return fmt.Errorf("node: persist artifact digest: %w", err)
		}
	}
	n.queueCommit(k, o)
	log.Debug("commitment queued", "fingerprint", hex.EncodeToString(o.Fingerprint))
	return nil
}

// errUnrunnable marks a task that cannot be run whoever tries: its parameters do not decode,
// it breaks the engine's rules, or no engine here runs its kind on its model.
var errUnrunnable = errors.New("unrunnable task")

// runTask runs the engine for an assignment and stores the artifact; it returns the opening
// without its salt.
func (n *Node) runTask(ctx context.Context, k jobKey, tv chain.TaskView) (*opening, error) {
	digest, _ := hex.DecodeString(tv.ModelDigest)
	if len(digest) != 32 {
		return nil, fmt.Errorf("%w: model digest of %d bytes", errUnrunnable, len(digest))
	}
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	if err := checkPayload(p, tv.FingerprintLen); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	if tv.Policy != nil {
		if err := checkPolicy(p, tv.Policy); err != nil {
			return nil, fmt.Errorf("%w: %v", errUnrunnable, err)
		}
	}
	task := p.Task
	task.Profile = n.cfg.Profile
	if err := task.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnrunnable, err)
	}
	if err := n.EnsureDataset(ctx, task); err != nil {
		return nil, err
	}
	var art *engine.Artifact
	switch n.cfg.Behaviour {
	case Guesser:
		task.Seed ^= 0x9e3779b97f4a7c15 // any seed but the task's
	case WrongModel:
		art, err = runOtherModel(ctx, n.engines, task)
		if err != nil {
			return nil, fmt.Errorf("run another model: %w", err)
		}
	}
	if art == nil {
		n.cfg.Observer.EngineStarted(task.Model.Name)
		start := n.now()
		n.traceStep(k, func(t *jobTrace) { t.engineStart = start })
		art, err = n.engines.Run(ctx, task)
		d := n.now().Sub(start)
		n.traceStep(k, func(t *jobTrace) { t.engine = d })
		n.cfg.Observer.EngineDone(task.Model.Name, d, err)
		if errors.Is(err, engine.ErrUnsupported) || errors.Is(err, engine.ErrNoEngine) {
			return nil, fmt.Errorf("%w: %v", errUnrunnable, err)
		}
		if err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
	}
	fp, err := fingerprint.Of(art, p.Scheme, n.cfg.Fingerprint)
	if err != nil {
		return nil, err
	}
	data, mediaType, err := storedForm(art, p.Scheme)
	if err != nil {
		return nil, err
	}
	if n.cfg.Behaviour == Tamperer {
		data = tamper(data, p.Scheme)
	}
	d, err := n.store.Put(ctx, data, store.ArtifactMeta{MediaType: mediaType, TaskID: tv.ID, Height: int64(tv.AssignedAt)})
	if err != nil {
		return nil, err
	}
	return &opening{Fingerprint: fp, Artifact: d}, nil
}

// storedForm returns the bytes a node stores, reveals the digest of and serves for an
// artifact, and their media type: a fingerprint.TextRecord for text:tokens, the engine's bytes
// otherwise.
func storedForm(art *engine.Artifact, s fingerprint.Scheme) ([]byte, string, error) {
	if s.Family != fingerprint.Tokens {
		return art.Data, art.MediaType, nil
	}
	b, err := fingerprint.TextRecord{Text: art.Data, Tokens: art.Tokens}.MarshalBinary()
	if err != nil {
		return nil, "", err
	}
	return b, fingerprint.MediaTypeTextRecord, nil
}

// tamper doctors a stored artifact for the tamperer: the last token id of a text record
// changed (an id appended when there is none), keeping the text; otherwise the last byte
// flipped (a zero byte appended to empty data).
func tamper(data []byte, s fingerprint.Scheme) []byte {
	var rec fingerprint.TextRecord
	if s.Family == fingerprint.Tokens && rec.UnmarshalBinary(data) == nil {
		if len(rec.Tokens) == 0 {
			rec.Tokens = []int32{0}
		} else {
			rec.Tokens[len(rec.Tokens)-1] ^= 1
		}
		if b, err := rec.MarshalBinary(); err == nil {
			return b
		}
	}
	out := bytes.Clone(data)
	if len(out) == 0 {
		return []byte{0}
	}
	out[len(out)-1] ^= 0xff
	return out
}

// copyCommitment waits (until the commit deadline) for another executor's commitment and
// commits the same bytes. It cannot open them later: the ledger slashes it as a copier.
func (n *Node) copyCommitment(ctx context.Context, k jobKey, tv chain.TaskView, log *slog.Logger) error {
	// A commitment sent before this node got to the task is in the task's state; later ones
	// are noted from each block's transactions (noteCommitments).
	var first [32]byte
	for _, x := range tv.Executors {
		if b, err := hex.DecodeString(x.Commitment); err == nil && len(b) == 32 && x.Node != n.key.String() {
			first = [32]byte(b)
			break
		}
	}
	n.mu.Lock()
	n.copied[k] = first
	n.mu.Unlock()
	for h := int64(tv.AssignedAt) + 1; h <= int64(tv.CommitBy); h++ {
		if err := n.client.WaitHeight(ctx, h); err != nil {
			return err
		}
		n.mu.Lock()
		c := n.copied[k]
		n.mu.Unlock()
		if c != ([32]byte{}) {
			_, err := n.send(ctx, func(s *ledger.Signer) []byte {
				return s.Sign(&ledger.Commit{Task: k.task, Commitment: c})
			})
			if err == nil {
				n.Stats.Committed.Add(1)
				log.Debug("copied a commitment")
			}
			return err
		}
	}
	return errors.New("copier: no commitment to copy before the deadline")
}

func (n *Node) saveOpening(k jobKey, o *opening) error {
	n.mu.Lock()
	n.openings[k] = o
	b, err := json.Marshal(o)
	n.mu.Unlock()
	if err != nil {
		return err
	}
	if err := n.store.PutState(k.stateKey(), b); err != nil {
		return fmt.Errorf("node: persist opening: %w", err)
	}
	return nil
}

// Artifact returns a stored artifact by digest (for serving to clients and peers).
func (n *Node) Artifact(ctx context.Context, d store.Digest) ([]byte, error) {
	return n.store.Artifact(ctx, d)
}

// ArtifactFor returns the digest of the artifact this node made for task.
func (n *Node) ArtifactFor(task ledger.TaskID) (store.Digest, error) {
	b, err := n.store.State("artifact/" + task.String())
	if err != nil {
		return store.Digest{}, fmt.Errorf("node: artifact of task %s: %w", task.String()[:12], err)
	}
	if len(b) != len(store.Digest{}) {
		return store.Digest{}, fmt.Errorf("node: artifact of task %s: stored digest of %d bytes", task.String()[:12], len(b))
	}
	return store.Digest(b), nil
}

// otherModels returns the models other than t's, in the order a wrong-model cheater tries
// them: first the other models of t's engine (e.g. another variant of a diffusion model),
// then the models of the engines registered after t's engine, then those registered before it
// (so with one GGUF file per engine, each text model's substitute is the next file's model).
func otherModels(r *engine.Registry, t engine.Task) []engine.ModelRef {
	engines := r.Engines()
	first := 0
	if e, err := r.ForTask(t); err == nil {
		first = slices.IndexFunc(engines, func(x engine.Engine) bool { return x.Name() == e.Name() })
	}
	var out []engine.ModelRef
	for i := range engines {
		for _, m := range engines[(first+i)%len(engines)].Models() {
			if m.Name != t.Model.Name {
				out = append(out, m)
			}
		}
	}
	return out
}

// runOtherModel runs t with the first other model (otherModels) whose engine runs t's kind of
// task: a wrong model of the same kind, the substitution a cheater would try. A model whose
// engine answers engine.ErrUnsupported (an image model for a text task, a vocabulary that
// cannot encode the prompt) is skipped.
func runOtherModel(ctx context.Context, r *engine.Registry, t engine.Task) (*engine.Artifact, error) {
	for _, m := range otherModels(r, t) {
		t.Model = m
		art, err := r.Run(ctx, t)
		if errors.Is(err, engine.ErrUnsupported) || errors.Is(err, engine.ErrNoEngine) {
			continue
		}
		return art, err
	}
	return nil, fmt.Errorf("%w: no other model runs %s tasks", engine.ErrUnsupported, t.Kind)
}
