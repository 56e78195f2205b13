package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Kind is the kind of work a task asks for.
type Kind string

// The kinds of task.
const (
	KindText  Kind = "text"  // text generation: the artifact carries token ids
	KindImage Kind = "image" // image generation: the artifact is a PNG
	KindTrain Kind = "train" // training or fine-tuning: the artifact is a checkpoint
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool { return k == KindText || k == KindImage || k == KindTrain }

// Digest is a SHA-256 content digest.
type Digest [32]byte

// String returns the digest as 64 lower-case hex digits.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is the zero digest (no digest given).
func (d Digest) IsZero() bool { return d == Digest{} }

// ParseDigest parses 64 hex digits.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) {
		return d, fmt.Errorf("engine: digest %q: want %d hex digits", s, 2*len(d))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("engine: digest %q: %w", s, err)
	}
	return d, nil
}

// ModelRef names a model and pins its content: Digest is the SHA-256 of the model file (or of
// a canonical manifest for multi-file models). A zero Digest means "whatever the engine has
// under that name", which verifiers must not accept for settlement.
type ModelRef struct {
	Name   string
	Digest Digest
}

func (m ModelRef) String() string {
	if m.Digest.IsZero() {
		return m.Name
	}
	return m.Name + "@" + m.Digest.String()[:12]
}

// TextParams are the decoding parameters of a text task.
type TextParams struct {
	PromptIDs   []int32 // when non-empty, used instead of tokenizing Task.Prompt
	Decode      string  // "greedy", "beam:N" or "sample"
	MaxTokens   int
	Temperature float32 // sample only
	TopK        int     // sample only; 0 = off
	TopP        float32 // sample only; 0 or 1 = off
}

// ImageParams are the sampling parameters of an image task.
type ImageParams struct {
	NegativePrompt string
	Sampler        string // e.g. "ddim", "euler"
	Steps          int
	CFGScale       float32
	Width, Height  int
}

// TrainParams are the parameters of a training task.
type TrainParams struct {
	Method     string // e.g. "full", "lora", "textual-inversion"
	Steps      int
	Checkpoint int // steps between checkpoints
	Dataset    Digest
}

// Task is one unit of generative work. Exactly one of Text, Image, Train is set, matching Kind.
type Task struct {
	Kind    Kind
	Model   ModelRef
	Prompt  string
	Seed    uint64
	Profile string // numeric profile name (package tensor); "" means the engine's default, "exact"

	Text  *TextParams
	Image *ImageParams
	Train *TrainParams
}

// Limits on task fields, so that a task from the network cannot ask for unbounded work or memory.
const (
	MaxPromptBytes = 64 << 10
	MaxNameBytes   = 256
	MaxPromptIDs   = 32 << 10
)

// ErrInvalidTask is wrapped by every error Validate returns.
var ErrInvalidTask = errors.New("engine: invalid task")

// Validate checks the task's shape (not whether any engine can run it).
func (t *Task) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidTask, fmt.Sprintf(format, args...))
	}
	if !t.Kind.Valid() {
		return bad("unknown kind %q", t.Kind)
	}
	if t.Model.Name == "" {
		return bad("no model")
	}
	if len(t.Model.Name) > MaxNameBytes || len(t.Profile) > MaxNameBytes {
		return bad("model or profile name over %d bytes", MaxNameBytes)
	}
	if len(t.Prompt) > MaxPromptBytes {
		return bad("prompt of %d bytes, over the limit of %d", len(t.Prompt), MaxPromptBytes)
	}
	set := 0
	for _, p := range []bool{t.Text != nil, t.Image != nil, t.Train != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return bad("want exactly one of text, image, train parameters, have %d", set)
	}
	switch t.Kind {
	case KindText:
		if t.Text == nil {
			return bad("text task without text parameters")
		}
		if t.Prompt == "" && len(t.Text.PromptIDs) == 0 {
			return bad("empty prompt")
		}
		if len(t.Text.PromptIDs) > MaxPromptIDs {
			return bad("%d prompt ids, over the limit of %d", len(t.Text.PromptIDs), MaxPromptIDs)
		}
		if t.Text.MaxTokens <= 0 {
			return bad("max tokens %d, want > 0", t.Text.MaxTokens)
		}
	case KindImage:
		if t.Image == nil {
			return bad("image task without image parameters")
		}
		if strings.TrimSpace(t.Prompt) == "" {
			return bad("empty prompt")
		}
		if t.Image.Steps <= 0 {
			return bad("steps %d, want > 0", t.Image.Steps)
		}
		if t.Image.Width < 0 || t.Image.Height < 0 {
			return bad("negative size %dx%d", t.Image.Width, t.Image.Height)
		}
	case KindTrain:
		if t.Train == nil {
			return bad("train task without train parameters")
		}
		if t.Train.Steps <= 0 {
			return bad("steps %d, want > 0", t.Train.Steps)
		}
	}
	return nil
}

// Digest returns the SHA-256 of the task's canonical encoding (see MarshalBinary).
func (t *Task) Digest() Digest {
	b, _ := t.MarshalBinary()
	return sha256.Sum256(b)
}

// taskEncodingVersion is the first byte of the canonical encoding.
const taskEncodingVersion = 1

// MarshalBinary returns the canonical encoding of the task: a version byte, then every field in
// declaration order; strings and slices are a uvarint length and the bytes; integers are
// big-endian fixed width; floats are their IEEE-754 bits; an absent parameter block is a 0 byte
// and a present one a 1 byte followed by its fields. The encoding never depends on map order.
func (t *Task) MarshalBinary() ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 128+len(t.Prompt))}
	e.u8(taskEncodingVersion)
	e.str(string(t.Kind))
	e.str(t.Model.Name)
	e.bytes(t.Model.Digest[:])
	e.str(t.Prompt)
	e.u64(t.Seed)
	e.str(t.Profile)
	if p := t.Text; p != nil {
		e.u8(1)
		e.uvarint(uint64(len(p.PromptIDs)))
		for _, id := range p.PromptIDs {
			e.u32(uint32(id))
		}
		e.str(p.Decode)
		e.i64(int64(p.MaxTokens))
		e.u32(math.Float32bits(p.Temperature))
		e.i64(int64(p.TopK))
		e.u32(math.Float32bits(p.TopP))
	} else {
		e.u8(0)
	}
	if p := t.Image; p != nil {
		e.u8(1)
		e.str(p.NegativePrompt)
		e.str(p.Sampler)
		e.i64(int64(p.Steps))
		e.u32(math.Float32bits(p.CFGScale))
		e.i64(int64(p.Width))
		e.i64(int64(p.Height))
	} else {
		e.u8(0)
	}
	if p := t.Train; p != nil {
		e.u8(1)
		e.str(p.Method)
		e.i64(int64(p.Steps))
		e.i64(int64(p.Checkpoint))
		e.bytes(p.Dataset[:])
	} else {
		e.u8(0)
	}
	return e.buf, nil
}

// UnmarshalBinary decodes the canonical encoding written by MarshalBinary. It rejects trailing
// bytes and over-limit lengths, so that exactly one encoding maps to each task.
func (t *Task) UnmarshalBinary(b []byte) error {
	d := decoder{buf: b}
	var out Task
	if v := d.u8(); v != taskEncodingVersion && d.err == nil {
		return fmt.Errorf("engine: task encoding version %d, want %d", v, taskEncodingVersion)
	}
	out.Kind = Kind(d.str(MaxNameBytes))
	out.Model.Name = d.str(MaxNameBytes)
	d.fixed(out.Model.Digest[:])
	out.Prompt = d.str(MaxPromptBytes)
	out.Seed = d.u64()
	out.Profile = d.str(MaxNameBytes)
	if d.flag() {
		p := &TextParams{}
		n := d.uvarint()
		if n > MaxPromptIDs {
			d.fail("%d prompt ids, over the limit of %d", n, MaxPromptIDs)
		}
		if d.err == nil && n > 0 {
			p.PromptIDs = make([]int32, n)
			for i := range p.PromptIDs {
				p.PromptIDs[i] = int32(d.u32())
			}
		}
		p.Decode = d.str(MaxNameBytes)
		p.MaxTokens = int(d.i64())
		p.Temperature = math.Float32frombits(d.u32())
		p.TopK = int(d.i64())
		p.TopP = math.Float32frombits(d.u32())
		out.Text = p
	}
	if d.flag() {
		p := &ImageParams{}
		p.NegativePrompt = d.str(MaxPromptBytes)
		p.Sampler = d.str(MaxNameBytes)
		p.Steps = int(d.i64())
		p.CFGScale = math.Float32frombits(d.u32())
		p.Width = int(d.i64())
		p.Height = int(d.i64())
		out.Image = p
	}
	if d.flag() {
		p := &TrainParams{}
		p.Method = d.str(MaxNameBytes)
		p.Steps = int(d.i64())
		p.Checkpoint = int(d.i64())
		d.fixed(p.Dataset[:])
		out.Train = p
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return d.err
	}
	*t = out
	return nil
}

// Artifact is what an engine returns for a task.
type Artifact struct {
	// MediaType says how to read Data: "image/png" for images, MediaTypeTokens for text,
	// "application/octet-stream" for checkpoints.
	MediaType string
	// Data is the artifact's bytes: the PNG file, the UTF-8 text, or the checkpoint.
	Data []byte
	// Tokens are the generated token ids of a text task (prompt excluded); nil otherwise.
	Tokens []int32
	// Margins, for text tasks, are the top-1 minus top-2 log-probability at each generated
	// position, so verifiers can tell a fragile token from a robust one; nil when unknown.
	Margins []float32
	// Info records the settings that affect determinism (engine version, profile, threads,
	// batch shape...), so a remote engine cannot hide them.
	Info map[string]string
}

// MediaTypeTokens marks a text artifact whose Tokens field is authoritative.
const MediaTypeTokens = "text/plain; charset=utf-8; genquorum=tokens"

// Digest returns the SHA-256 of the artifact's Data.
func (a *Artifact) Digest() Digest { return sha256.Sum256(a.Data) }

// Engine runs tasks. Implementations must be safe for concurrent use, honour ctx cancellation,
// and return byte-identical artifacts for identical tasks (including profile).
type Engine interface {
	// Name identifies the engine, e.g. "builtin-llm" or "remote-openai".
	Name() string
	// Models lists the models the engine can run, by name and digest.
	Models() []ModelRef
	// Run executes the task. It returns an error wrapping ErrUnsupported when the engine cannot
	// run this kind of task, model or profile.
	Run(ctx context.Context, task Task) (*Artifact, error)
}

// Kinder is implemented by engines that say which kinds of task they run, so that a node can
// declare them on the ledger (tasks of other kinds are then never assigned to it).
type Kinder interface {
	Kinds() []Kind
}

// KindsOf returns the kinds of task e runs, or nil when e does not say (engines that do not
// implement Kinder).
func KindsOf(e Engine) []Kind {
	if k, ok := e.(Kinder); ok {
		return k.Kinds()
	}
	return nil
}

// ErrUnsupported is wrapped by errors for tasks an engine cannot run.
var ErrUnsupported = errors.New("engine: unsupported task")

// ErrNoEngine is wrapped by Registry.ForTask when no registered engine serves the task's model.
var ErrNoEngine = errors.New("engine: no engine serves this model")

// Registry finds the engine for a task by model. It is safe for concurrent use. The zero value
// is an empty registry.
type Registry struct {
	mu      sync.RWMutex
	engines []Engine // in registration order
}

// Register adds e. Names must be unique.
func (r *Registry) Register(e Engine) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, have := range r.engines {
		if have.Name() == e.Name() {
			return fmt.Errorf("engine: %q registered twice", e.Name())
		}
	}
	r.engines = append(r.engines, e)
	return nil
}

// Engines returns the registered engines in registration order.
func (r *Registry) Engines() []Engine {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.engines)
}

// Lookup returns the engine called name.
func (r *Registry) Lookup(name string) (Engine, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, e := range r.engines {
		if e.Name() == name {
			return e, true
		}
	}
	return nil, false
}

// Models returns every model of every engine, sorted by name then digest.
func (r *Registry) Models() []ModelRef {
	var all []ModelRef
	for _, e := range r.Engines() {
		all = append(all, e.Models()...)
	}
	slices.SortFunc(all, func(a, b ModelRef) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return slices.Compare(a.Digest[:], b.Digest[:])
	})
	return all
}

// ForTask returns the first registered engine that lists the task's model and runs its kind
// (engines that do not say which kinds they run are taken to run any). A task whose model
// digest is zero matches by name alone.
func (r *Registry) ForTask(t Task) (Engine, error) {
	for _, e := range r.Engines() {
		if ks := KindsOf(e); ks != nil && !slices.Contains(ks, t.Kind) {
			continue
		}
		for _, m := range e.Models() {
			if m.Name == t.Model.Name && (t.Model.Digest.IsZero() || m.Digest == t.Model.Digest) {
				return e, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoEngine, t.Model)
}

// Run validates the task, finds its engine and runs it.
func (r *Registry) Run(ctx context.Context, t Task) (*Artifact, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	e, err := r.ForTask(t)
	if err != nil {
		return nil, err
	}
	a, err := e.Run(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("engine %s: %w", e.Name(), err)
	}
	return a, nil
}

type encoder struct{ buf []byte }

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }
func (e *encoder) i64(v int64)  { e.u64(uint64(v)) }
func (e *encoder) uvarint(v uint64) {
	e.buf = binary.AppendUvarint(e.buf, v)
}
func (e *encoder) str(s string) { e.uvarint(uint64(len(s))); e.buf = append(e.buf, s...) }
func (e *encoder) bytes(b []byte) {
	e.buf = append(e.buf, b...)
}

type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("engine: task encoding: "+format, args...)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf) {
		d.fail("truncated: need %d bytes, have %d", n, len(d.buf))
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) flag() bool {
	switch v := d.u8(); v {
	case 0:
		return false
	case 1:
		return d.err == nil
	default:
		d.fail("presence byte %d, want 0 or 1", v)
		return false
	}
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) i64() int64 { return int64(d.u64()) }

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad length")
		return 0
	}
	if binary.PutUvarint(make([]byte, binary.MaxVarintLen64), v) != n {
		d.fail("non-minimal length")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) str(limit int) string {
	n := d.uvarint()
	if d.err == nil && n > uint64(limit) {
		d.fail("string of %d bytes, over the limit of %d", n, limit)
	}
	return string(d.take(int(min(n, uint64(limit)))))
}

func (d *decoder) fixed(dst []byte) { copy(dst, d.take(len(dst))) }
