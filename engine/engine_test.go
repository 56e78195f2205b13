package engine

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func validImageTask() Task {
	return Task{
		Kind:   KindImage,
		Model:  ModelRef{Name: "base", Digest: Digest{1, 2, 3}},
		Prompt: "A photo of a bag",
		Seed:   42,
		Image:  &ImageParams{Sampler: "ddim", Steps: 20, CFGScale: 3, Width: 32, Height: 32},
	}
}

func validTextTask() Task {
	return Task{
		Kind:    KindText,
		Model:   ModelRef{Name: "tiny-llama-a-f32"},
		Prompt:  "Once upon a time",
		Seed:    7,
		Profile: "exact",
		Text:    &TextParams{Decode: "greedy", MaxTokens: 30},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Task)
		wantErr string
	}{
		{"ok image", func(*Task) {}, ""},
		{"unknown kind", func(t *Task) { t.Kind = "audio" }, `unknown kind "audio"`},
		{"no model", func(t *Task) { t.Model.Name = "" }, "no model"},
		{"empty prompt", func(t *Task) { t.Prompt = "  " }, "empty prompt"},
		{"zero steps", func(t *Task) { t.Image.Steps = 0 }, "steps 0"},
		{"negative size", func(t *Task) { t.Image.Width = -1 }, "negative size"},
		{"huge prompt", func(t *Task) { t.Prompt = strings.Repeat("a", MaxPromptBytes+1) }, "over the limit"},
		{"two param blocks", func(t *Task) { t.Text = &TextParams{MaxTokens: 1} }, "exactly one"},
		{"no params", func(t *Task) { t.Image = nil }, "exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := validImageTask()
			tt.edit(&task)
			err := task.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidTask) {
				t.Errorf("Validate() = %v, want ErrInvalidTask containing %q", err, tt.wantErr)
			}
		})
	}
	text := validTextTask()
	if err := text.Validate(); err != nil {
		t.Errorf("text task: Validate() = %v", err)
	}
	text.Text.MaxTokens = 0
	if err := text.Validate(); err == nil {
		t.Error("text task with max tokens 0: Validate() = nil, want error")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	withIDs := validTextTask()
	withIDs.Text.PromptIDs = []int32{1, 15043, -1}
	withIDs.Text.Temperature = 0.8
	withIDs.Text.TopP = 0.95
	train := Task{Kind: KindTrain, Model: ModelRef{Name: "base"}, Train: &TrainParams{Method: "lora", Steps: 300, Checkpoint: 50}}
	for _, task := range []Task{validImageTask(), validTextTask(), withIDs, train} {
		b, err := task.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Task
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary(MarshalBinary(%v)) = %v", task.Kind, err)
		}
		b2, _ := got.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Errorf("%v: re-encoding differs", task.Kind)
		}
		if got.Digest() != task.Digest() {
			t.Errorf("%v: digest changed across round trip", task.Kind)
		}
	}
}

// TestDigestGolden pins the canonical encoding: a change here changes every task id on every
// network, so it must be deliberate (bump taskEncodingVersion and update the golden value).
func TestDigestGolden(t *testing.T) {
	task := validImageTask()
	const want = "7a8d83aba0b7605fdd96c311efc0ba5738c196a24f2e690287c5a388acd714e3"
	if got := task.Digest().String(); got != want {
		t.Errorf("Digest() = %s, want %s", got, want)
	}
}

func TestDigestChangesWithEveryField(t *testing.T) {
	base := validImageTask()
	edits := map[string]func(*Task){
		"seed":    func(t *Task) { t.Seed++ },
		"prompt":  func(t *Task) { t.Prompt += "." },
		"profile": func(t *Task) { t.Profile = "hopper-bf16" },
		"model":   func(t *Task) { t.Model.Digest[0]++ },
		"steps":   func(t *Task) { t.Image.Steps++ },
		"cfg":     func(t *Task) { t.Image.CFGScale += 0.5 },
		"sampler": func(t *Task) { t.Image.Sampler = "euler" },
	}
	for name, edit := range edits {
		task := validImageTask()
		task.Image = &ImageParams{}
		*task.Image = *base.Image
		edit(&task)
		if task.Digest() == base.Digest() {
			t.Errorf("changing %s left the task digest unchanged", name)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	task := validImageTask()
	good, _ := task.MarshalBinary()
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"bad version", append([]byte{9}, good[1:]...), "version 9"},
		{"trailing", append(append([]byte{}, good...), 0), "trailing"},
		{"truncated", good[:len(good)-3], "truncated"},
	}
	for _, tt := range tests {
		var task Task
		err := task.UnmarshalBinary(tt.b)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: UnmarshalBinary = %v, want error containing %q", tt.name, err, tt.want)
		}
	}
}

func FuzzUnmarshalTask(f *testing.F) {
	for _, task := range []Task{validImageTask(), validTextTask()} {
		b, _ := task.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var task Task
		if err := task.UnmarshalBinary(b); err != nil {
			return
		}
		// Exactly one encoding per task: a decoded task re-encodes to the same bytes.
		again, _ := task.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded task re-encodes differently:\n in %x\nout %x", b, again)
		}
	})
}

type fakeEngine struct {
	name   string
	models []ModelRef
}

func (f fakeEngine) Name() string       { return f.name }
func (f fakeEngine) Models() []ModelRef { return f.models }
func (f fakeEngine) Run(ctx context.Context, t Task) (*Artifact, error) {
	return &Artifact{MediaType: "text/plain", Data: []byte(f.name + ":" + t.Prompt)}, ctx.Err()
}

func TestRegistry(t *testing.T) {
	var r Registry
	a := fakeEngine{"a", []ModelRef{{Name: "base", Digest: Digest{1}}}}
	b := fakeEngine{"b", []ModelRef{{Name: "base", Digest: Digest{2}}, {Name: "lora"}}}
	if err := r.Register(a); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(b); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(a); err == nil {
		t.Error("registering a name twice succeeded")
	}
	tests := []struct {
		model ModelRef
		want  string
	}{
		{ModelRef{Name: "base", Digest: Digest{2}}, "b"},
		{ModelRef{Name: "base", Digest: Digest{1}}, "a"},
		{ModelRef{Name: "base"}, "a"},
		{ModelRef{Name: "lora"}, "b"},
		{ModelRef{Name: "base", Digest: Digest{3}}, ""},
	}
	for _, tt := range tests {
		e, err := r.ForTask(Task{Model: tt.model})
		switch {
		case tt.want == "" && !errors.Is(err, ErrNoEngine):
			t.Errorf("ForTask(%v) = %v, %v; want ErrNoEngine", tt.model, e, err)
		case tt.want != "" && (err != nil || e.Name() != tt.want):
			t.Errorf("ForTask(%v) = %v, %v; want engine %s", tt.model, e, err, tt.want)
		}
	}
	if got := len(r.Models()); got != 3 {
		t.Errorf("Models() has %d entries, want 3", got)
	}
	task := validImageTask()
	task.Model = ModelRef{Name: "lora"}
	art, err := r.Run(t.Context(), task)
	if err != nil || string(art.Data) != "b:A photo of a bag" {
		t.Errorf("Run = %v, %v", art, err)
	}
}

func TestParseDigest(t *testing.T) {
	d := Digest{0xab, 0xcd}
	got, err := ParseDigest(d.String())
	if err != nil || got != d {
		t.Errorf("ParseDigest(%s) = %v, %v", d, got, err)
	}
	for _, bad := range []string{"", "abcd", strings.Repeat("zz", 32)} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) = nil error", bad)
		}
	}
}
