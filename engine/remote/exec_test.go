package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
)

// helperEnv makes the test binary act as an exec engine's program (see execHelper).
const helperEnv = "GENQUORUM_REMOTE_EXEC_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(execHelper(mode))
	}
	os.Exit(m.Run())
}

// execHelper is the program of the exec tests: it reads the canonical task JSON and, by mode,
// answers a text artifact derived from it, an image, fails, or hangs until killed.
func execHelper(mode string) int {
	var task ExecTask
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&task); err != nil {
		fmt.Fprintln(os.Stderr, "bad task:", err)
		return 2
	}
	switch mode {
	case "text":
		n := task.Text.MaxTokens
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32((task.Seed + uint64(i)*7 + uint64(len(task.Prompt))) % 1000)
		}
		json.NewEncoder(os.Stdout).Encode(ExecTextOutput{Text: "echo:" + task.Prompt + ":" + task.TaskDigest[:8], Tokens: ids})
	case "image":
		os.Stdout.Write(tinyPNG)
	case "fail":
		fmt.Fprintln(os.Stderr, "out of GPU memory")
		return 3
	case "refuse":
		fmt.Fprintln(os.Stderr, "cannot run this task")
		return ExitRefused
	case "hang":
		io.Copy(io.Discard, os.Stdin)
		time.Sleep(time.Hour) // killed by the engine long before

	}
	return 0
}

func execSpec(t *testing.T, mode, extra string) *Engine {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return openSpec(t, "prog=exec:"+exe+"?env="+helperEnv+"="+mode+extra)
}

// TestExec: the program gets the canonical task JSON on stdin and its stdout is the artifact;
// it passes enginetest for text and image; a failing program's status and stderr are reported;
// a hanging one is killed at the time limit or when the task is cancelled.
func TestExec(t *testing.T) {
	text := execSpec(t, "text", "")
	task := greedy("prog")
	enginetest.Run(t, text, task)
	a, err := text.Run(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	if want := "echo:Once upon a time:" + task.Digest().String()[:8]; string(a.Data) != want || len(a.Tokens) != 5 {
		t.Errorf("text artifact %q with %d tokens, want %q and 5", a.Data, len(a.Tokens), want)
	}
	if len(text.Settings()["program"]) != 16 {
		t.Errorf("settings %v: want the program's digest", text.Settings())
	}

	img := execSpec(t, "image", "&kind=image")
	itask := engine.Task{Kind: engine.KindImage, Model: engine.ModelRef{Name: "prog"}, Prompt: "a cat", Seed: 1, Image: &engine.ImageParams{Steps: 1}}
	enginetest.Run(t, img, itask)

	var ee *ExitError
	if _, err := execSpec(t, "fail", "").Run(t.Context(), task); !errors.As(err, &ee) || ee.Status != 3 || !strings.Contains(ee.Stderr, "out of GPU memory") {
		t.Errorf("failing program: %v, want an ExitError with status 3 and its stderr", err)
	}
	if _, err := execSpec(t, "fail", "").Run(t.Context(), task); errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("failing program: %v is a refusal, want a failure", err)
	}
	if _, err := execSpec(t, "refuse", "").Run(t.Context(), task); !errors.Is(err, engine.ErrUnsupported) || !errors.As(err, &ee) || ee.Status != ExitRefused {
		t.Errorf("refusing program: %v, want ErrUnsupported and an ExitError with status %d", err, ExitRefused)
	}
	if _, err := execSpec(t, "hang", "&timeout=200ms").Run(t.Context(), task); !errors.As(err, &ee) || ee.Status != -1 || !strings.Contains(err.Error(), "time limit") {
		t.Errorf("hanging program: %v, want an ExitError naming the time limit", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := execSpec(t, "hang", "").Run(ctx, task); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled program: %v, want context.Canceled", err)
	}
}

// TestMarshalExecTask pins the canonical task JSON.
func TestMarshalExecTask(t *testing.T) {
	task := engine.Task{Kind: engine.KindText, Model: engine.ModelRef{Name: "m", Digest: engine.Digest{1}}, Prompt: "a<b & \"c\"", Seed: 1<<63 + 5,
		Profile: "exact", Text: &engine.TextParams{Decode: "greedy", MaxTokens: 3}}
	b, err := MarshalExecTask(task)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"text","model":"m","model_digest":"01` + strings.Repeat("0", 62) + `","prompt":"a<b & \"c\"","seed":9223372036854775813,` +
		`"seed_string":"9223372036854775813","profile":"exact","task_digest":"` + task.Digest().String() + `",` +
		`"text":{"prompt_ids":[],"decode":"greedy","max_tokens":3,"temperature":0,"top_k":0,"top_p":0}}` + "\n"
	if string(b) != want {
		t.Errorf("MarshalExecTask =\n%s\nwant\n%s", b, want)
	}
}
