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
//	  -> commit tx: H(task, key, fingerprint, salt)
//	reveal-open (commit window closed)
//	  -> reveal tx: (fingerprint, salt)
//	verdict / no-verdict
//	  -> forget the opening; the artifact stays in the store
//
// The node holds no settlement rule: it only acts on the ledger's events. It follows blocks
// from the height persisted in its store, so a restarted node resumes where it stopped.
// Transactions of one node are signed and sent one at a time, in nonce order.
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
// # Stored artifacts
//
// The store keeps what the node revealed the digest of: the engine's bytes for image and
// vector tasks, and for text tasks (scheme text:tokens) a fingerprint.TextRecord, the text
// together with its token ids, because the token fingerprint cannot be recomputed from the
// text alone. Peers fetch these bytes by digest over package p2p; see Fetch.
package node

import (
	"bytes"
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

	"golang.org/x/sync/errgroup"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
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
)

// Behaviours lists every behaviour.
var Behaviours = []Behaviour{Honest, Guesser, Copier, Lazy, WrongModel, Crashed, Tamperer}

// ParseBehaviour reads a behaviour name.
func ParseBehaviour(s string) (Behaviour, error) {
	for _, b := range Behaviours {
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
	// Fingerprint bounds images when fingerprinting artifacts.
	Fingerprint fingerprint.Options
	// Addrs are the libp2p multiaddrs (with /p2p/ID) where this node serves its artifacts,
	// announced on the ledger at registration so that clients can fetch them.
	Addrs []string
}

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
	return nil
}

// Stats count what a node did.
type Stats struct {
	Assigned, Committed, Revealed, Failed atomic.Int64
}

// Node is a running daemon. Create it with New, then call Register once and Run.
type Node struct {
	cfg     Config
	key     ledger.PubKey
	client  *chain.Client
	engines *engine.Registry
	store   *store.Store
	logger  *slog.Logger

	sendMu sync.Mutex // serialises signing and sending
	signer *ledger.Signer

	mu       sync.Mutex
	openings map[jobKey]*opening // committed, not yet revealed
	copied   map[jobKey][32]byte // copier: commitments seen from other executors

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
}

// New returns a node. chainID is the ledger's chain ID (transactions are signed for it).
func New(cfg Config, chainID string, client *chain.Client, engines *engine.Registry, st *store.Store, logger *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	n := &Node{
		cfg: cfg, client: client, engines: engines, store: st,
		signer: ledger.NewSigner(cfg.Key, chainID), openings: map[jobKey]*opening{}, copied: map[jobKey][32]byte{},
	}
	n.key = n.signer.Key()
	n.logger = logger.With("node", n.key.String()[:8])
	return n, nil
}

// Key returns the node's ledger key.
func (n *Node) Key() ledger.PubKey { return n.key }

// Behaviour returns how the node acts.
func (n *Node) Behaviour() Behaviour { return n.cfg.Behaviour }

// Register registers the node on the ledger, with its engines, models and addresses. A node
// already registered only re-announces its addresses when they changed (e.g. after a restart
// on new ports), bonding nothing more. The node's account must hold at least Stake.
func (n *Node) Register(ctx context.Context) error {
	reg := ledger.RegisterNode{Stake: n.cfg.Stake, Hardware: n.cfg.Profile, Class: n.cfg.Class, Addrs: n.cfg.Addrs}
	var nv chain.NodeView
	if err := n.client.QueryJSON(ctx, chain.QueryNode, n.key[:], &nv); err == nil {
		if slices.Equal(nv.Addrs, n.cfg.Addrs) {
			return nil
		}
		reg.Stake = 0
	}
	for _, e := range n.engines.Engines() {
		reg.Engines = append(reg.Engines, e.Name())
	}
	for _, m := range n.engines.Models() {
		reg.Models = append(reg.Models, ledger.Model{Name: m.Name, Digest: m.Digest})
	}
	if _, err := n.send(ctx, func(s *ledger.Signer) []byte { return s.RegisterNode(reg) }); err != nil {
		return fmt.Errorf("node: register: %w", err)
	}
	n.logger.Info("registered", "stake", n.cfg.Stake, "profile", n.cfg.Profile, "models", len(reg.Models))
	return nil
}

// send signs one transaction with the next nonce and waits for its inclusion. A nonce
// conflict (the account moved on, e.g. after a restart) resynchronises the nonce and retries.
func (n *Node) send(ctx context.Context, build func(*ledger.Signer) []byte) (*chain.Inclusion, error) {
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	for attempt := 0; ; attempt++ {
		if attempt == 0 && n.signer.Nonce() == 0 || attempt > 0 {
			var acct ledger.Account
			if err := n.client.QueryJSON(ctx, chain.QueryAccount, n.key[:], &acct); err != nil {
				return nil, err
			}
			n.signer.SetNonce(acct.Nonce)
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
func (n *Node) Run(ctx context.Context) error {
	if n.cfg.Behaviour == Crashed {
		n.logger.Info("crashed: not acting on anything")
		<-ctx.Done()
		return nil
	}
	height, err := n.loadHeight()
	if err != nil {
		return err
	}
	if err := n.loadOpenings(); err != nil {
		return err
	}
	jobs := make(chan ledger.Event, 1024)
	g, ctx := errgroup.WithContext(ctx)
	for range n.cfg.Workers {
		g.Go(func() error {
			for ev := range jobs {
				n.execute(ctx, ev)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
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
			work, reveals := n.react(act)
			for _, k := range reveals {
				// Reveals must not wait behind engine runs, or they could miss their window.
				g.Go(func() error { n.reveal(ctx, k); return nil })
			}
			for _, ev := range work {
				select {
				case jobs <- ev:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			height++
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

func (n *Node) loadOpenings() error {
	entries, err := n.store.States("job/")
	if err != nil {
		return fmt.Errorf("node: load openings: %w", err)
	}
	for _, e := range entries {
		k, ok := parseJobKey(e.Key)
		if !ok {
			continue // not written by stateKey: not an opening
		}
		var o opening
		if err := json.Unmarshal(e.Value, &o); err != nil {
			return fmt.Errorf("node: opening %s: %w", e.Key, err)
		}
		n.openings[k] = &o
	}
	return nil
}

// react handles one block's activity and returns the assignments to execute and the jobs to
// reveal.
func (n *Node) react(act *chain.BlockActivity) (work []ledger.Event, reveals []jobKey) {
	if n.cfg.Behaviour == Copier {
		n.noteCommitments(act)
	}
	for _, ev := range act.Events {
		k := jobKey{ev.Task, ev.Round}
		switch ev.Type {
		case ledger.EventTaskAssigned:
			for _, node := range ev.Nodes {
				if node == n.key {
					n.Stats.Assigned.Add(1)
					work = append(work, ev)
				}
			}
		case ledger.EventRevealOpen:
			n.mu.Lock()
			o := n.openings[k]
			if o != nil {
				o.RevealOpen = true
			}
			n.mu.Unlock()
			if o != nil && o.Committed {
				reveals = append(reveals, k)
			}
		case ledger.EventVerdict, ledger.EventNoVerdict:
			n.mu.Lock()
			_, mine := n.openings[k]
			delete(n.openings, k)
			delete(n.copied, k)
			n.mu.Unlock()
			if mine {
				if err := n.store.DeleteState(k.stateKey()); err != nil {
					n.logger.Error("forget opening", "task", k.task.String()[:12], "err", err)
				}
			}
		}
	}
	return work, reveals
}

// noteCommitments records, for a copier, the commitments other executors sent.
func (n *Node) noteCommitments(act *chain.BlockActivity) {
	for _, raw := range act.Txs {
		tx, err := ledger.DecodeTx(raw)
		if err != nil || tx.Signer == n.key {
			continue
		}
		if c, ok := tx.Body.(*ledger.Commit); ok {
			n.mu.Lock()
			for k := range n.copied {
				if k.task == c.Task {
					n.copied[k] = c.Commitment
				}
			}
			n.mu.Unlock()
		}
	}
}

// execute runs one assignment up to its commitment.
func (n *Node) execute(ctx context.Context, ev ledger.Event) {
	k := jobKey{ev.Task, ev.Round}
	log := n.logger.With("task", ev.Task.String()[:12], "round", ev.Round)
	if err := n.commitTo(ctx, k, log); err != nil {
		if ctx.Err() == nil {
			n.Stats.Failed.Add(1)
			log.Warn("assignment failed", "err", err)
		}
	}
}

func (n *Node) commitTo(ctx context.Context, k jobKey, log *slog.Logger) error {
	var tv chain.TaskView
	if err := n.client.QueryJSON(ctx, chain.QueryTask, k.task[:], &tv); err != nil {
		return err
	}
	if n.cfg.Behaviour == Copier {
		return n.copyCommitment(ctx, k, tv, log)
	}
	digest, _ := hex.DecodeString(tv.ModelDigest)
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return err
	}
	task := p.Task
	task.Profile = n.cfg.Profile
	var art *engine.Artifact
	switch n.cfg.Behaviour {
	case Guesser:
		task.Seed ^= 0x9e3779b97f4a7c15 // any seed but the task's
	case WrongModel:
		art, err = runOtherModel(ctx, n.engines, task)
		if err != nil {
			return fmt.Errorf("run another model: %w", err)
		}
	}
	if art == nil {
		if art, err = n.engines.Run(ctx, task); err != nil {
			return fmt.Errorf("run: %w", err)
		}
	}
	fp, err := fingerprint.Of(art, p.Scheme, n.cfg.Fingerprint)
	if err != nil {
		return err
	}
	data, mediaType, err := storedForm(art, p.Scheme)
	if err != nil {
		return err
	}
	if n.cfg.Behaviour == Tamperer {
		data = tamper(data, p.Scheme)
	}
	d, err := n.store.Put(ctx, data, store.ArtifactMeta{MediaType: mediaType, TaskID: tv.ID, Height: int64(tv.AssignedAt)})
	if err != nil {
		return err
	}
	o := &opening{Fingerprint: fp, Artifact: d}
	if _, err := rand.Read(o.Salt[:]); err != nil {
		return err
	}
	if err := n.saveOpening(k, o); err != nil {
		return err
	}
	if err := n.store.PutState("artifact/"+k.task.String(), d[:]); err != nil {
		return fmt.Errorf("node: persist artifact digest: %w", err)
	}
	commitment := ledger.CommitmentFor(k.task, n.key, fp, o.Salt)
	if _, err := n.send(ctx, func(s *ledger.Signer) []byte {
		return s.Sign(&ledger.Commit{Task: k.task, Commitment: commitment})
	}); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	n.Stats.Committed.Add(1)
	log.Debug("committed", "fingerprint", hex.EncodeToString(fp), "artifact", d.Short())
	n.mu.Lock()
	o.Committed = true
	revealNow := o.RevealOpen
	n.mu.Unlock()
	if err := n.saveOpening(k, o); err != nil {
		return err
	}
	if revealNow {
		n.reveal(ctx, k)
	}
	return nil
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

// reveal sends the reveal of a committed job (a lazy node never does).
func (n *Node) reveal(ctx context.Context, k jobKey) {
	if n.cfg.Behaviour == Lazy {
		return
	}
	n.mu.Lock()
	o := n.openings[k]
	if o == nil || o.Revealed {
		n.mu.Unlock()
		return
	}
	o.Revealed = true
	fp, salt, art := o.Fingerprint, o.Salt, o.Artifact
	n.mu.Unlock()
	if _, err := n.send(ctx, func(s *ledger.Signer) []byte { return s.Reveal(k.task, fp, salt, art) }); err != nil {
		if ctx.Err() == nil {
			n.Stats.Failed.Add(1)
			n.logger.Warn("reveal failed", "task", k.task.String()[:12], "err", err)
		}
		return
	}
	n.Stats.Revealed.Add(1)
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
