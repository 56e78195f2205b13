package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/genquorum/genquorum/engine"
)

// ExecTask is the canonical task JSON an exec engine's program reads on stdin: the fields in
// this order, UTF-8, no HTML escaping, no insignificant space, one trailing newline. Seed is a
// JSON number (readers in languages whose numbers are doubles should take SeedString).
type ExecTask struct {
	Kind        engine.Kind `json:"kind"`
	Model       string      `json:"model"`
	ModelDigest string      `json:"model_digest"`
	Prompt      string      `json:"prompt"`
	Seed        uint64      `json:"seed"`
	SeedString  string      `json:"seed_string"`
	Profile     string      `json:"profile"`
	TaskDigest  string      `json:"task_digest"` // engine.Task.Digest in hex
	Text        *ExecText   `json:"text,omitempty"`
	Image       *ExecImage  `json:"image,omitempty"`
}

// ExecText are a text task's parameters in ExecTask.
type ExecText struct {
	PromptIDs   []int32 `json:"prompt_ids"`
	Decode      string  `json:"decode"`
	MaxTokens   int     `json:"max_tokens"`
	Temperature float32 `json:"temperature"`
	TopK        int     `json:"top_k"`
	TopP        float32 `json:"top_p"`
}

// ExecImage are an image task's parameters in ExecTask.
type ExecImage struct {
	NegativePrompt string  `json:"negative_prompt"`
	Sampler        string  `json:"sampler"`
	Steps          int     `json:"steps"`
	CFGScale       float32 `json:"cfg_scale"`
	Width          int     `json:"width"`
	Height         int     `json:"height"`
}

// ExecTextOutput is what a text program writes on stdout.
type ExecTextOutput struct {
	Text    string    `json:"text"`
	Tokens  []int32   `json:"tokens"`
	Margins []float32 `json:"margins,omitempty"`
}

// MarshalExecTask returns the canonical task JSON of t.
func MarshalExecTask(t engine.Task) ([]byte, error) {
	et := ExecTask{Kind: t.Kind, Model: t.Model.Name, ModelDigest: t.Model.Digest.String(), Prompt: t.Prompt, Seed: t.Seed,
		SeedString: fmt.Sprint(t.Seed), Profile: t.Profile, TaskDigest: t.Digest().String()}
	if p := t.Text; p != nil {
		ids := p.PromptIDs
		if ids == nil {
			ids = []int32{}
		}
		et.Text = &ExecText{PromptIDs: ids, Decode: p.Decode, MaxTokens: p.MaxTokens, Temperature: p.Temperature, TopK: p.TopK, TopP: p.TopP}
	}
	if p := t.Image; p != nil {
		et.Image = &ExecImage{NegativePrompt: p.NegativePrompt, Sampler: p.Sampler, Steps: p.Steps, CFGScale: p.CFGScale, Width: p.Width, Height: p.Height}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(et); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ExitError is an exec engine's program that failed: its exit status and the end of its stderr.
type ExitError struct {
	Program string
	Status  int    // -1 when killed (time limit, cancellation)
	Stderr  string // the last 4 KiB
}

// Error names the program, its exit status and its standard error output.
func (e *ExitError) Error() string {
	return fmt.Sprintf("remote: exec %s: exit status %d: %s", e.Program, e.Status, strings.TrimSpace(e.Stderr))
}

// execEngine runs a program per task.
type execEngine struct {
	sp   Spec
	prog string
	args []string
	env  []string
	k    engine.Kind
}

func newExec(sp Spec) (*execEngine, error) {
	prog, err := exec.LookPath(sp.URL)
	if err != nil {
		return nil, fmt.Errorf("remote: %s: exec: %w", sp.Name, err)
	}
	e := &execEngine{sp: sp, prog: prog, args: sp.Options["arg"], env: sp.Options["env"], k: engine.KindText}
	switch k := sp.Options.Get("kind"); k {
	case "", "text":
	case "image":
		e.k = engine.KindImage
	default:
		return nil, fmt.Errorf("remote: %s: exec kind=%q: want text or image", sp.Name, k)
	}
	for _, kv := range e.env {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("remote: %s: exec env=%q: want NAME=VALUE", sp.Name, kv)
		}
	}
	return e, nil
}

func (e *execEngine) kind() engine.Kind { return e.k }
func (*execEngine) exactTokens() bool   { return true }
func (*execEngine) advice() string {
	return "make the program deterministic: seed every random source from the task's seed, fix thread counts and " +
		"reduction orders, and keep no state between runs"
}

func (e *execEngine) check(context.Context) (map[string]string, error) {
	f, err := os.Open(e.prog)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return map[string]string{"program": hex.EncodeToString(h.Sum(nil)[:8]), "args": fmt.Sprint(len(e.args))}, nil
}

// limitedBuffer keeps at most n bytes and records whether more were written.
type limitedBuffer struct {
	buf  bytes.Buffer
	n    int64
	over bool
	tail bool // keep the last n bytes instead of the first
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.tail {
		l.buf.Write(p)
		if extra := int64(l.buf.Len()) - l.n; extra > 0 {
			l.buf.Next(int(extra))
		}
		return len(p), nil
	}
	if room := l.n - int64(l.buf.Len()); int64(len(p)) > room {
		l.over = true
		l.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return l.buf.Write(p)
}

func (e *execEngine) run(parent context.Context, t engine.Task) (*engine.Artifact, error) {
	in, err := MarshalExecTask(t)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(parent, e.sp.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.prog, e.args...)
	cmd.Env = append(os.Environ(), e.env...)
	cmd.Stdin = bytes.NewReader(in)
	stdout := &limitedBuffer{n: e.sp.MaxBytes}
	stderr := &limitedBuffer{n: 4 << 10, tail: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err := parent.Err(); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, &ExitError{Program: e.prog, Status: -1, Stderr: fmt.Sprintf("killed at the time limit of %v; %s", e.sp.Timeout, stderr.buf.String())}
	}
	if err != nil {
		status := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		}
		return nil, &ExitError{Program: e.prog, Status: status, Stderr: stderr.buf.String()}
	}
	if stdout.over {
		return nil, fmt.Errorf("%w: exec %s wrote over %d bytes", ErrBadResponse, e.prog, e.sp.MaxBytes)
	}
	out := stdout.buf.Bytes()
	if e.k == engine.KindImage {
		mt := "image/png"
		switch {
		case bytes.HasPrefix(out, []byte("\x89PNG\r\n\x1a\n")):
		case bytes.HasPrefix(out, []byte("\xff\xd8\xff")):
			mt = "image/jpeg"
		default:
			return nil, fmt.Errorf("%w: exec %s: stdout is not a PNG or JPEG image", ErrBadResponse, e.prog)
		}
		return &engine.Artifact{MediaType: mt, Data: bytes.Clone(out)}, nil
	}
	o, err := parseExecText(out)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", e.prog, err)
	}
	return &engine.Artifact{MediaType: engine.MediaTypeTokens, Data: []byte(o.Text), Tokens: o.Tokens, Margins: o.Margins,
		Info: map[string]string{"ids": "as the program reports them"}}, nil
}

// parseExecText decodes a text program's stdout.
func parseExecText(b []byte) (*ExecTextOutput, error) {
	var o struct {
		ExecTextOutput
		Tokens *[]int32 `json:"tokens"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("%w: stdout: want {\"text\": ..., \"tokens\": [...]}: %w", ErrBadResponse, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: stdout: data after the JSON object", ErrBadResponse)
	}
	if o.Tokens == nil {
		return nil, fmt.Errorf("%w: stdout: no tokens", ErrBadResponse)
	}
	out := o.ExecTextOutput
	out.Tokens = *o.Tokens
	if out.Margins != nil && len(out.Margins) != len(out.Tokens) {
		return nil, fmt.Errorf("%w: stdout: %d margins for %d tokens", ErrBadResponse, len(out.Margins), len(out.Tokens))
	}
	return &out, nil
}
