package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/genquorum/genquorum/engine"
)

// MaxWorkflowBytes bounds a ComfyUI workflow template file.
const MaxWorkflowBytes = 4 << 20

// comfyUI speaks ComfyUI's API: POST /prompt with a workflow (API format) made from a template,
// GET /history/{id} until the prompt is done, GET /view for the image.
//
// The template is the workflow exported with "Save (API Format)", in which string values
// that are exactly a placeholder are replaced by the task's value with its JSON type:
// "{{seed}}", "{{steps}}", "{{width}}", "{{height}}" (numbers), "{{cfg}}" (a number),
// "{{sampler}}" (a string); inside other strings "{{prompt}}" and "{{negative_prompt}}" are
// replaced by the texts. A template must use {{prompt}} and {{seed}}.
type comfyUI struct {
	sp       Spec
	c        *client
	template any
	digest   string // SHA-256 of the template file, first 16 hex digits
}

func newComfyUI(sp Spec, c *client) (*comfyUI, error) {
	path := sp.Options.Get("workflow")
	if path == "" {
		return nil, fmt.Errorf("remote: %s: comfyui needs workflow=FILE.json (a workflow saved in API format, with placeholders)", sp.Name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("remote: %s: workflow: %w", sp.Name, err)
	}
	tpl, err := parseWorkflow(b)
	if err != nil {
		return nil, fmt.Errorf("remote: %s: workflow %s: %w", sp.Name, path, err)
	}
	sum := sha256.Sum256(b)
	return &comfyUI{sp: sp, c: c, template: tpl, digest: hex.EncodeToString(sum[:8])}, nil
}

// parseWorkflow decodes a workflow template and checks it uses the placeholders it must.
func parseWorkflow(b []byte) (any, error) {
	if len(b) > MaxWorkflowBytes {
		return nil, fmt.Errorf("workflow of %d bytes, over the limit of %d", len(b), MaxWorkflowBytes)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		return nil, fmt.Errorf("workflow: %w", err)
	}
	for _, p := range []string{"{{prompt}}", "{{seed}}"} {
		if !bytes.Contains(b, []byte(p)) {
			return nil, fmt.Errorf("workflow does not use the placeholder %s", p)
		}
	}
	return tpl, nil
}

func (*comfyUI) kind() engine.Kind { return engine.KindImage }
func (*comfyUI) exactTokens() bool { return false }
func (*comfyUI) advice() string {
	return "start ComfyUI with --deterministic (best effort), keep the sampler's noise on the CPU, " +
		"and use a workflow without random nodes (every seed input must be {{seed}})"
}

func (cu *comfyUI) check(ctx context.Context) (map[string]string, error) {
	var stats struct {
		System struct {
			ComfyUIVersion string `json:"comfyui_version"`
		} `json:"system"`
		Devices []struct {
			Type string `json:"type"`
		} `json:"devices"`
	}
	if err := cu.c.getJSON(ctx, "/system_stats", &stats); err != nil {
		return nil, err
	}
	set := map[string]string{"workflow": cu.digest}
	if v := stats.System.ComfyUIVersion; v != "" {
		set["version"] = v
	}
	if len(stats.Devices) > 0 {
		set["device"] = stats.Devices[0].Type
	}
	return set, nil
}

// fill returns a copy of the template with the task's values in place of the placeholders.
func fill(v any, t engine.Task) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = fill(e, t)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fill(e, t)
		}
		return out
	case string:
		p := t.Image
		switch x {
		case "{{seed}}":
			return t.Seed
		case "{{steps}}":
			return p.Steps
		case "{{cfg}}":
			return p.CFGScale
		case "{{width}}":
			return p.Width
		case "{{height}}":
			return p.Height
		case "{{sampler}}":
			return p.Sampler
		}
		return strings.NewReplacer("{{prompt}}", t.Prompt, "{{negative_prompt}}", p.NegativePrompt).Replace(x)
	}
	return v
}

// comfyImage is one image in a history entry's outputs.
type comfyImage struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

// comfyHistory is GET /history/{id}: the prompt's entry once it has run.
type comfyHistory map[string]struct {
	Outputs map[string]struct {
		Images []comfyImage `json:"images"`
	} `json:"outputs"`
	Status struct {
		StatusStr string `json:"status_str"`
		Completed bool   `json:"completed"`
		Messages  []any  `json:"messages"`
	} `json:"status"`
}

// parseHistory reads a /history/{id} answer: done is false while the prompt has not finished;
// once done, img is the first output image (by node id, in numeric order where ids are
// numbers) of type "output".
func parseHistory(b []byte, id string) (done bool, img comfyImage, err error) {
	var h comfyHistory
	if err := decodeJSON(b, "/history", &h); err != nil {
		return false, img, err
	}
	e, ok := h[id]
	if !ok {
		return false, img, nil
	}
	if e.Status.StatusStr == "error" {
		msg, _ := json.Marshal(e.Status.Messages)
		return true, img, fmt.Errorf("%w: ComfyUI failed the prompt: %.512s", ErrBadResponse, msg)
	}
	if !e.Status.Completed && e.Status.StatusStr != "success" {
		return false, img, nil
	}
	nodes := slices.Collect(func(yield func(string) bool) {
		for k := range e.Outputs {
			if !yield(k) {
				return
			}
		}
	})
	slices.SortFunc(nodes, func(a, b string) int {
		ai, aerr := strconv.Atoi(a)
		bi, berr := strconv.Atoi(b)
		if aerr == nil && berr == nil {
			return ai - bi
		}
		return strings.Compare(a, b)
	})
	for _, n := range nodes {
		for _, im := range e.Outputs[n].Images {
			if im.Type == "output" && im.Filename != "" {
				return true, im, nil
			}
		}
	}
	return true, img, fmt.Errorf("%w: ComfyUI prompt %s finished without an output image (add a SaveImage node)", ErrBadResponse, id)
}

func (cu *comfyUI) run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	var cid [16]byte
	rand.Read(cid[:])
	var queued struct {
		PromptID   string         `json:"prompt_id"`
		NodeErrors map[string]any `json:"node_errors"`
	}
	wf := fill(cu.template, t)
	if err := cu.c.postJSON(ctx, "/prompt", map[string]any{"prompt": wf, "client_id": hex.EncodeToString(cid[:])}, &queued); err != nil {
		return nil, err
	}
	if len(queued.NodeErrors) > 0 {
		msg, _ := json.Marshal(queued.NodeErrors)
		return nil, fmt.Errorf("%w: ComfyUI refused the workflow: %.512s", ErrBadResponse, msg)
	}
	if queued.PromptID == "" {
		return nil, fmt.Errorf("%w: ComfyUI gave no prompt_id", ErrBadResponse)
	}
	img, err := cu.wait(ctx, queued.PromptID)
	if err != nil {
		if ctx.Err() != nil {
			cu.cancel(queued.PromptID)
		}
		return nil, err
	}
	q := url.Values{"filename": {img.Filename}, "subfolder": {img.Subfolder}, "type": {img.Type}}
	png, err := cu.c.do(ctx, "GET", "/view?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, fmt.Errorf("%w: /view did not give a PNG", ErrBadResponse)
	}
	return &engine.Artifact{MediaType: "image/png", Data: png, Info: map[string]string{"prompt_id": queued.PromptID}}, nil
}

// wait polls /history/{id} with back-off until the prompt is done.
func (cu *comfyUI) wait(ctx context.Context, id string) (comfyImage, error) {
	wait := cu.sp.Backoff
	for {
		b, err := cu.c.do(ctx, "GET", "/history/"+url.PathEscape(id), nil)
		if err != nil {
			return comfyImage{}, err
		}
		done, img, err := parseHistory(b, id)
		if done || err != nil {
			return img, err
		}
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return comfyImage{}, ctx.Err()
		case <-tm.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// cancel removes the prompt from ComfyUI's queue and interrupts it if it is running (best
// effort, on a fresh short context: the task's is done).
func (cu *comfyUI) cancel(id string) {
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	c := *cu.c
	c.sp.Retries = 0
	c.do(ctx, "POST", "/queue", map[string]any{"delete": []string{id}})
	c.do(ctx, "POST", "/interrupt", map[string]any{"prompt_id": id})
}
