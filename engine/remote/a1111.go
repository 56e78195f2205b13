package remote

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/engine"
)

// a1111 speaks AUTOMATIC1111's API (also Forge's and stable-diffusion.cpp's server):
// GET /sdapi/v1/sd-models, POST /sdapi/v1/txt2img.
type a1111 struct {
	sp        Spec
	c         *client
	scheduler string
	title     string // the checkpoint's title on the server, sent as sd_model_checkpoint
}

func newA1111(sp Spec, c *client) (*a1111, error) {
	s := sp.Options.Get("scheduler")
	if s == "" {
		s = "Automatic"
	}
	return &a1111{sp: sp, c: c, scheduler: s, title: sp.Model}, nil
}

func (*a1111) kind() engine.Kind { return engine.KindImage }
func (*a1111) exactTokens() bool { return false }
func (*a1111) advice() string {
	return "keep the noise source on the CPU (the adapter sends override_settings.randn_source=CPU; check that the server " +
		"honours it), start the WebUI without --xformers and with --no-half if the self-test differs, and keep one request at a time"
}

// a1111Model is one entry of GET /sdapi/v1/sd-models.
type a1111Model struct {
	Title     string `json:"title"`
	ModelName string `json:"model_name"`
	Hash      string `json:"hash"`
	SHA256    string `json:"sha256"`
}

func (a *a1111) check(ctx context.Context) (map[string]string, error) {
	var models []a1111Model
	if err := a.c.getJSON(ctx, "/sdapi/v1/sd-models", &models); err != nil {
		return nil, err
	}
	var names []string
	var found *a1111Model
	for i, m := range models {
		names = append(names, m.ModelName)
		if m.Title == a.sp.Model || m.ModelName == a.sp.Model || strings.HasPrefix(m.Title, a.sp.Model+" [") {
			found = &models[i]
			break
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: the server has no checkpoint %q (it lists %q)", ErrWrongModel, a.sp.Model, names)
	}
	a.title = found.Title
	set := map[string]string{"randn_source": "CPU", "subseed": "seed", "subseed_strength": "0", "scheduler": a.scheduler}
	switch {
	case found.SHA256 == "":
	case a.sp.Digest.IsZero():
		set["sha256"] = found.SHA256[:min(16, len(found.SHA256))] // listed by the server, nothing declared
	case !strings.EqualFold(found.SHA256, a.sp.Digest.String()):
		return nil, fmt.Errorf("%w: checkpoint %q has SHA-256 %s, the declared digest is %s", ErrWrongModel, found.Title, found.SHA256, a.sp.Digest)
	default:
		set["sha256"] = "checked"
	}
	return set, nil
}

// a1111Samplers maps genquorum's sampler names to AUTOMATIC1111's; other names are sent as
// they are.
var a1111Samplers = map[string]string{"ddim": "DDIM", "euler": "Euler", "euler_a": "Euler a"}

// a1111Response is txt2img's answer: base64 PNGs and info, a JSON string.
type a1111Response struct {
	Images []string `json:"images"`
	Info   string   `json:"info"`
}

// a1111Info is the part of info the adapter checks.
type a1111Info struct {
	Seed     json.Number   `json:"seed"`
	AllSeeds []json.Number `json:"all_seeds"`
}

// parseTxt2img decodes a txt2img answer: the first image's PNG bytes and the seed info says
// was used ("" when info gives none).
func parseTxt2img(b []byte) (png []byte, seed string, err error) {
	var r a1111Response
	if err := decodeJSON(b, "/sdapi/v1/txt2img", &r); err != nil {
		return nil, "", err
	}
	if len(r.Images) == 0 {
		return nil, "", fmt.Errorf("%w: txt2img gave no image", ErrBadResponse)
	}
	s := r.Images[0]
	if i := strings.Index(s, ";base64,"); i >= 0 && strings.HasPrefix(s, "data:") { // a data URL (some forks)
		s = s[i+len(";base64,"):]
	}
	png, err = base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, "", fmt.Errorf("%w: txt2img image: %w", ErrBadResponse, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, "", fmt.Errorf("%w: txt2img image is not a PNG", ErrBadResponse)
	}
	if r.Info != "" {
		var info a1111Info
		if err := json.Unmarshal([]byte(r.Info), &info); err != nil {
			return nil, "", fmt.Errorf("%w: txt2img info: %w", ErrBadResponse, err)
		}
		seed = info.Seed.String()
		if len(info.AllSeeds) > 0 && info.AllSeeds[0].String() != seed {
			return nil, "", fmt.Errorf("%w: txt2img info: seed %s but all_seeds[0] %s", ErrBadResponse, seed, info.AllSeeds[0])
		}
	}
	return png, seed, nil
}

func (a *a1111) run(ctx context.Context, t engine.Task) (*engine.Artifact, error) {
	p := t.Image
	if t.Seed > 1<<63-1 {
		return nil, fmt.Errorf("%w: txt2img takes seeds below 2^63", engine.ErrUnsupported)
	}
	sampler := p.Sampler
	if s, ok := a1111Samplers[strings.ToLower(sampler)]; ok {
		sampler = s
	}
	req := map[string]any{
		"prompt": t.Prompt, "negative_prompt": p.NegativePrompt,
		"seed": t.Seed, "subseed": t.Seed, "subseed_strength": 0,
		"steps": p.Steps, "scheduler": a.scheduler, "batch_size": 1, "n_iter": 1,
		"send_images": true, "save_images": false,
		"override_settings":                    map[string]any{"randn_source": "CPU", "sd_model_checkpoint": a.title},
		"override_settings_restore_afterwards": true,
	}
	if sampler != "" {
		req["sampler_name"] = sampler
	}
	if p.CFGScale > 0 {
		req["cfg_scale"] = p.CFGScale
	}
	if p.Width > 0 {
		req["width"] = p.Width
	}
	if p.Height > 0 {
		req["height"] = p.Height
	}
	b, err := a.c.do(ctx, "POST", "/sdapi/v1/txt2img", req)
	if err != nil {
		return nil, err
	}
	png, seed, err := parseTxt2img(b)
	if err != nil {
		return nil, err
	}
	if want := strconv.FormatUint(t.Seed, 10); seed != "" && seed != want {
		return nil, fmt.Errorf("%w: txt2img used seed %s, asked for %s", ErrNondeterministic, seed, want)
	}
	return &engine.Artifact{MediaType: "image/png", Data: png, Info: map[string]string{"sampler": sampler, "checkpoint": a.title}}, nil
}
