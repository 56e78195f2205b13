package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/p2p"
	"github.com/genquorum/genquorum/quorum"
	"github.com/genquorum/genquorum/store"
)

// Fetched is an artifact fetched for an accepted task, and where it came from.
type Fetched struct {
	// Data is the artifact: the image or checkpoint bytes, or for a text task the generated
	// text (the Text of the TextRecord the executor served).
	Data []byte
	// Tokens are a text task's generated token ids, whose text:tokens fingerprint is the
	// accepted one; nil for other kinds.
	Tokens []int32
	// Digest is the SHA-256 of the bytes served, the digest the executor revealed (for a text
	// task, of the encoded fingerprint.TextRecord, not of Data).
	Digest store.Digest
	// From is the executor's key.
	From string
	// Distance is the Hamming distance of the artifact's fingerprint, recomputed here, to the
	// accepted one (always 0 for text).
	Distance int
	// TextChecked reports, for a text task, that FetchOptions.Detokenize knew the model and
	// that Tokens detokenise to exactly Data.
	TextChecked bool
	// Rejected holds, in order, why each agreeing executor tried before From was passed over.
	Rejected []error
}

// FetchOptions configure Fetch. The zero value checks what can be checked without a model.
type FetchOptions struct {
	// Fingerprint bounds image decoding when fingerprinting image artifacts.
	Fingerprint fingerprint.Options
	// Detokenize, if set, renders a text task's ids as the engine that ran the model renders
	// its output (engine.Artifact.Data). It returns ok false for a model it does not have;
	// the check is then skipped. When it returns text, Fetch requires the served text to be
	// exactly that text.
	Detokenize func(model engine.ModelRef, ids []int32) (text []byte, ok bool, err error)
}

// Errors wrapped by the reasons Fetch passes over an executor (in Fetched.Rejected, or joined
// in Fetch's error when none delivered).
var (
	// ErrNotAccepted is returned by Fetch for a task without an accepted verdict.
	ErrNotAccepted = errors.New("node: task has no accepted verdict")
	// ErrTokenMismatch: a text artifact's token ids do not hash to the accepted fingerprint.
	ErrTokenMismatch = errors.New("node: token ids do not match the accepted fingerprint")
	// ErrTextMismatch: a text artifact's ids do not detokenise to its text.
	ErrTextMismatch = errors.New("node: token ids do not detokenise to the served text")
	// ErrFingerprintMismatch: an artifact's fingerprint lies beyond the task's tolerance of the
	// accepted one.
	ErrFingerprintMismatch = errors.New("node: fingerprint beyond the tolerance of the accepted one")
)

// Fetch fetches the artifact of an accepted task from its agreeing executors, in the order
// the ledger lists them, over host. Each candidate must match the digest its executor revealed
// (checked by p2p), and its fingerprint, recomputed here, must lie within the task's tolerance
// of the accepted fingerprint: for a text task the served bytes must be a
// fingerprint.TextRecord whose ids hash to the accepted fingerprint (and, with
// opts.Detokenize, detokenise to its text). Otherwise the next executor is tried; the reasons
// are kept in Fetched.Rejected, or joined in the error when no executor delivered.
func Fetch(ctx context.Context, c *chain.Client, host *p2p.Host, id ledger.TaskID, opts FetchOptions) (*Fetched, error) {
	tv, p, accepted, err := acceptedTask(ctx, c, id)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range tv.Executors {
		if e.Outcome != ledger.OutcomeAgreed.String() {
			continue
		}
		f, err := fetchFrom(ctx, c, host, e, p, accepted, int(tv.Tolerance), opts)
		if err == nil {
			f.Rejected = errs
			return f, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("executor %s: %w", e.Node[:12], err))
	}
	return nil, fmt.Errorf("node: no agreeing executor delivered task %s's artifact: %w", tv.ID[:12], errors.Join(errs...))
}

// FetchFromExecutor fetches an accepted task's artifact from one executor (by key, hex), with
// the checks Fetch applies to each candidate, whatever the executor's outcome: an auditor uses
// it to check every agreeing executor's artifact, not only the first that delivers.
func FetchFromExecutor(ctx context.Context, c *chain.Client, host *p2p.Host, id ledger.TaskID, executor string, opts FetchOptions) (*Fetched, error) {
	tv, p, accepted, err := acceptedTask(ctx, c, id)
	if err != nil {
		return nil, err
	}
	for _, e := range tv.Executors {
		if e.Node == executor {
			return fetchFrom(ctx, c, host, e, p, accepted, int(tv.Tolerance), opts)
		}
	}
	return nil, fmt.Errorf("node: %s is no executor of task %s", executor[:min(12, len(executor))], tv.ID[:12])
}

// acceptedTask returns an accepted task's view, payload and accepted fingerprint.
func acceptedTask(ctx context.Context, c *chain.Client, id ledger.TaskID) (chain.TaskView, Payload, []byte, error) {
	var tv chain.TaskView
	if err := c.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err != nil {
		return tv, Payload{}, nil, err
	}
	if tv.Status != ledger.StatusAccepted.String() {
		return tv, Payload{}, nil, fmt.Errorf("%w: task %s is %s", ErrNotAccepted, tv.ID[:12], tv.Status)
	}
	digest, _ := hex.DecodeString(tv.ModelDigest)
	p, err := payloadOf(tv.Kind, tv.Model, [32]byte(digest), tv.Prompt, tv.Seed, tv.Params)
	if err != nil {
		return tv, Payload{}, nil, err
	}
	accepted, err := hex.DecodeString(tv.Value)
	if err != nil {
		return tv, Payload{}, nil, fmt.Errorf("node: accepted value: %w", err)
	}
	return tv, p, accepted, nil
}

func fetchFrom(ctx context.Context, c *chain.Client, host *p2p.Host, e chain.ExecutorView, p Payload, accepted []byte, tol int, opts FetchOptions) (*Fetched, error) {
	d, err := store.ParseDigest(e.Artifact)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(e.Node)
	if err != nil {
		return nil, err
	}
	var nv chain.NodeView
	if err := c.QueryJSON(ctx, chain.QueryNode, key, &nv); err != nil {
		return nil, err
	}
	if len(nv.Addrs) == 0 {
		return nil, errors.New("announced no address")
	}
	var peers []peer.AddrInfo
	for _, a := range nv.Addrs {
		ai, err := p2p.ParseAddrInfo(a)
		if err == nil {
			peers = append(peers, ai)
		}
	}
	data, err := host.FetchAny(ctx, peers, d)
	if err != nil {
		return nil, err
	}
	f := &Fetched{Data: data, Digest: d, From: e.Node}
	if p.Scheme.Family == fingerprint.Tokens {
		if err := checkText(f, p.Task.Model, accepted, opts); err != nil {
			return nil, err
		}
		return f, nil
	}
	if err := checkFingerprint(f, p.Scheme, accepted, tol, opts); err != nil {
		return nil, err
	}
	return f, nil
}

// checkFingerprint recomputes the fingerprint of f.Data (an image, a vector) under scheme and
// checks it is within tol bits of the accepted one; it sets f.Distance.
func checkFingerprint(f *Fetched, scheme fingerprint.Scheme, accepted []byte, tol int, opts FetchOptions) error {
	fp, err := fingerprint.Of(&engine.Artifact{Data: f.Data}, scheme, opts.Fingerprint)
	if err != nil {
		return err
	}
	if len(fp) != len(accepted) {
		return fmt.Errorf("fingerprint of %d bytes, accepted one has %d", len(fp), len(accepted))
	}
	f.Distance = quorum.Distance(fp, accepted)
	if f.Distance > tol {
		return fmt.Errorf("%w: the artifact's %s fingerprint %x is %d bits from the accepted %x (tolerance %d)",
			ErrFingerprintMismatch, scheme, fp, f.Distance, accepted, tol)
	}
	return nil
}

// checkText decodes f.Data as a text record, checks that its ids hash to the accepted
// fingerprint and, when the model is known to opts.Detokenize, that they render its text; it
// leaves the text in f.Data and the ids in f.Tokens.
func checkText(f *Fetched, model engine.ModelRef, accepted []byte, opts FetchOptions) error {
	var rec fingerprint.TextRecord
	if err := rec.UnmarshalBinary(f.Data); err != nil {
		return err
	}
	if fp := rec.Fingerprint(); !bytes.Equal(fp, accepted) {
		return fmt.Errorf("%w: its %d token ids hash to the text:tokens fingerprint %x, the quorum accepted %x",
			ErrTokenMismatch, len(rec.Tokens), fp, accepted)
	}
	if opts.Detokenize != nil {
		text, ok, err := opts.Detokenize(model, rec.Tokens)
		if err != nil {
			return fmt.Errorf("detokenise with %s: %w", model.Name, err)
		}
		if ok {
			if !bytes.Equal(text, rec.Text) {
				i := firstDifference(text, rec.Text)
				return fmt.Errorf("%w: %s renders the ids as %d bytes, the record's text has %d; they differ from byte %d (%q vs %q)",
					ErrTextMismatch, model.Name, len(text), len(rec.Text), i, excerpt(text, i), excerpt(rec.Text, i))
			}
			f.TextChecked = true
		}
	}
	f.Data, f.Tokens = rec.Text, rec.Tokens
	return nil
}

// firstDifference returns the index of the first byte where a and b differ (the shorter
// length when one is a prefix of the other).
func firstDifference(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// excerpt returns up to 24 bytes of b from i, for error messages.
func excerpt(b []byte, i int) []byte { return b[i:min(len(b), i+24)] }
