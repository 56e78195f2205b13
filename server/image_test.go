package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/tensor"
)

// imageModelPath is the project's base diffusion model (testdata/diffusion/README.md); it
// makes 32x32 grey images at about 50 ms a step on one core, so tests ask for 2 steps.
const imageModelPath = "../testdata/diffusion/base-preliminary.gguf"

var loadImage = sync.OnceValues(func() (*diffusion.Engine, error) { return diffusion.Open("base", imageModelPath) })

func testImageEngine(t testing.TB) *diffusion.Engine { return must(t, loadImage) }

// newImageTest returns a Server serving the base image model (and no text model) with cfg's
// limits, and an httptest.Server serving it.
func newImageTest(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	cfg.Image = testImageEngine(t)
	return serveTest(t, cfg)
}

// txt2imgResult is a decoded txt2img response: the PNGs decoded and the info parsed.
type txt2imgResult struct {
	pngs   [][]byte
	images []image.Image
	params map[string]any
	info   txt2imgInfo
}

// txt2img posts body to /sdapi/v1/txt2img and decodes the 200 response.
func txt2img(t *testing.T, url, body string) txt2imgResult {
	t.Helper()
	code, b := do(t, "POST", url+"/sdapi/v1/txt2img", body)
	if code != http.StatusOK {
		t.Fatalf("txt2img %s: status %d: %s", body, code, b)
	}
	var raw struct {
		Images     []string       `json:"images"`
		Parameters map[string]any `json:"parameters"`
		Info       string         `json:"info"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("txt2img %s: %v: %s", body, err, b)
	}
	var res txt2imgResult
	res.params = raw.Parameters
	if err := json.Unmarshal([]byte(raw.Info), &res.info); err != nil {
		t.Fatalf("txt2img %s: info %q is not JSON: %v", body, raw.Info, err)
	}
	for i, s := range raw.Images {
		data, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("txt2img %s: image %d: %v", body, i, err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("txt2img %s: image %d is not a PNG: %v", body, i, err)
		}
		res.pngs = append(res.pngs, data)
		res.images = append(res.images, img)
	}
	return res
}

func TestTxt2Img(t *testing.T) {
	_, ts := newImageTest(t, Config{})
	tests := []struct {
		name, body    string
		n             int // images returned
		width, height int
		seeds         []uint64
		sampler       string
		resized       bool
	}{
		{"defaults", `{"prompt": "A photo of a bag", "seed": 1, "steps": 2}`, 1, 32, 32, []uint64{1}, "DDIM", false},
		{"native size asked", `{"prompt": "A photo of a bag", "seed": 1, "steps": 2, "width": 32, "height": 32}`, 1, 32, 32, []uint64{1}, "DDIM", false},
		{"upscaled", `{"prompt": "A photo of a bag", "seed": 1, "steps": 2, "width": 512, "height": 384}`, 1, 512, 384, []uint64{1}, "DDIM", true},
		{"downscaled", `{"prompt": "A photo of a bag", "seed": 1, "steps": 2, "width": 17, "height": 9}`, 1, 17, 9, []uint64{1}, "DDIM", true},
		{"batch", `{"prompt": "A photo of a coat", "seed": 10, "steps": 2, "batch_size": 3}`, 3, 32, 32, []uint64{10, 11, 12}, "DDIM", false},
		{"batch × n_iter", `{"prompt": "A photo of a coat", "seed": 10, "steps": 2, "batch_size": 2, "n_iter": 2}`, 4, 32, 32, []uint64{10, 11, 12, 13}, "DDIM", false},
		{"no images sent", `{"prompt": "A photo of a coat", "seed": 5, "steps": 2, "batch_size": 2, "send_images": false}`, 0, 32, 32, []uint64{5, 6}, "DDIM", false},
		{"A1111 sampler", `{"prompt": "A photo of a dress", "seed": 3, "steps": 2, "sampler_name": "Euler a", "cfg_scale": 7.5}`, 1, 32, 32, []uint64{3}, "Euler a", false},
		{"sampler alias", `{"prompt": "A photo of a dress", "seed": 3, "steps": 2, "sampler_name": "k_euler"}`, 1, 32, 32, []uint64{3}, "Euler", false},
		{"engine's sampler name", `{"prompt": "A photo of a dress", "seed": 3, "steps": 2, "sampler_index": "euler_a"}`, 1, 32, 32, []uint64{3}, "Euler a", false},
		{"nulls are absent", `{"prompt": "A photo of a dress", "seed": 3, "steps": 2, "width": null, "sampler_name": null, "negative_prompt": null}`, 1, 32, 32, []uint64{3}, "DDIM", false},
		{"model by title", `{"prompt": "A photo of a bag", "seed": 1, "steps": 2, "override_settings": {"sd_model_checkpoint": "base"}}`, 1, 32, 32, []uint64{1}, "DDIM", false},
		{"string seed", `{"prompt": "A photo of a bag", "seed": "18446744073709551615", "steps": 2}`, 1, 32, 32, []uint64{18446744073709551615}, "DDIM", false},
		{"unknown fields ignored", `{"prompt": "A photo of a bag", "seed": 1, "steps": 2, "styles": [], "eta": 0, "enable_hr": false, "restore_faces": false, "subseed": -1, "subseed_strength": 0, "scheduler": "Automatic"}`, 1, 32, 32, []uint64{1}, "DDIM", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := txt2img(t, ts.URL, tt.body)
			if len(res.images) != tt.n {
				t.Fatalf("%d images, want %d", len(res.images), tt.n)
			}
			for i, img := range res.images {
				if _, ok := img.(*image.Gray); !ok || img.Bounds() != image.Rect(0, 0, tt.width, tt.height) {
					t.Errorf("image %d: %T %v, want a %dx%d grey image", i, img, img.Bounds(), tt.width, tt.height)
				}
			}
			info := res.info
			if fmt.Sprint(info.AllSeeds) != fmt.Sprint(tt.seeds) || info.Seed != tt.seeds[0] || len(info.Infotexts) != len(tt.seeds) ||
				len(info.AllPrompts) != len(tt.seeds) {
				t.Errorf("info seeds %d %v, %d infotexts, %d prompts; want %v", info.Seed, info.AllSeeds, len(info.Infotexts), len(info.AllPrompts), tt.seeds)
			}
			if info.Width != tt.width || info.Height != tt.height || info.SamplerName != tt.sampler || info.Steps != 2 ||
				info.SDModelName != "base" || len(info.SDModelHash) != 10 {
				t.Errorf("info %+v", info)
			}
			if _, ok := info.ExtraGenerationParams["Resize"]; ok != tt.resized || info.ExtraGenerationParams["Profile"] != "exact" ||
				info.ExtraGenerationParams["Native size"] != "32x32" {
				t.Errorf("extra_generation_params %v (resized: %v)", info.ExtraGenerationParams, tt.resized)
			}
			want := fmt.Sprintf("Steps: 2, Sampler: %s, ", tt.sampler)
			if it := info.Infotexts[0]; !strings.Contains(it, want) || !strings.Contains(it, fmt.Sprintf("Seed: %d,", tt.seeds[0])) {
				t.Errorf("infotext %q, want %q and seed %d", it, want, tt.seeds[0])
			}
			p := res.params
			if p["sampler_name"] != tt.sampler || p["width"] != float64(tt.width) || p["height"] != float64(tt.height) || p["steps"] != 2.0 {
				t.Errorf("parameters %v", p)
			}
		})
	}
}

func TestTxt2ImgInfotext(t *testing.T) {
	_, ts := newImageTest(t, Config{})
	res := txt2img(t, ts.URL, `{"prompt": "A photo of a bag", "negative_prompt": "a shoe", "seed": 4, "steps": 2, "cfg_scale": 2.5, "width": 64, "height": 64}`)
	digest := testImageEngine(t).Models()[0].Digest.String()
	want := "A photo of a bag\nNegative prompt: a shoe\nSteps: 2, Sampler: DDIM, CFG scale: 2.5, Seed: 4, Size: 64x64, Model hash: " +
		digest[:10] + ", Model: base, Profile: exact, Engine: diffusion/1, Model digest: " + digest +
		`, Native size: 32x32, Resize: Catmull-Rom, Version: diffusion/1`
	if got := res.info.Infotexts[0]; got != want {
		t.Errorf("infotext\n%s\nwant\n%s", got, want)
	}
	if got := quoteInfo("a, b: c"); got != `"a, b: c"` {
		t.Errorf("quoteInfo = %s", got)
	}
}

// TestTxt2ImgReproducible checks that a seed gives the same bytes every time and the same PNG
// as the engine itself (so as genquorum generate image), and that other seeds give other
// images.
func TestTxt2ImgReproducible(t *testing.T) {
	_, ts := newImageTest(t, Config{})
	body := func(seed string, extra string) string {
		return `{"prompt": "A photo of a sneaker", "seed": ` + seed + `, "steps": 2` + extra + `}`
	}
	for _, extra := range []string{"", `, "width": 100, "height": 60`, `, "sampler_name": "Euler a"`} {
		a := txt2img(t, ts.URL, body("7", extra)).pngs[0]
		b := txt2img(t, ts.URL, body("7", extra)).pngs[0]
		c := txt2img(t, ts.URL, body("8", extra)).pngs[0]
		if !bytes.Equal(a, b) {
			t.Errorf("%s: seed 7 twice gave different PNGs", extra)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s: seeds 7 and 8 gave the same PNG", extra)
		}
	}
	eng := testImageEngine(t)
	art, err := eng.Run(t.Context(), engine.Task{Kind: engine.KindImage, Model: eng.Models()[0], Prompt: "A photo of a sneaker",
		Seed: 7, Profile: "exact", Image: &engine.ImageParams{Sampler: diffusion.SamplerDDIM, Steps: 2, CFGScale: diffusion.DefaultCFGScale}})
	if err != nil {
		t.Fatal(err)
	}
	if got := txt2img(t, ts.URL, body("7", "")).pngs[0]; !bytes.Equal(got, art.Data) {
		t.Error("native-size PNG differs from the engine's")
	}
}

func TestTxt2ImgBatchSeeds(t *testing.T) {
	_, ts := newImageTest(t, Config{})
	batch := txt2img(t, ts.URL, `{"prompt": "A photo of a trouser", "seed": 20, "steps": 2, "batch_size": 2, "n_iter": 2, "width": 40, "height": 40}`)
	for i := range 4 {
		one := txt2img(t, ts.URL, fmt.Sprintf(`{"prompt": "A photo of a trouser", "seed": %d, "steps": 2, "width": 40, "height": 40}`, 20+i))
		if !bytes.Equal(batch.pngs[i], one.pngs[0]) {
			t.Errorf("image %d of the batch of seed 20 differs from seed %d alone", i, 20+i)
		}
	}
}

func TestTxt2ImgRandomSeed(t *testing.T) {
	_, ts := newImageTest(t, Config{})
	for _, body := range []string{`{"prompt": "A photo of a bag", "steps": 2, "batch_size": 2}`, `{"prompt": "A photo of a bag", "steps": 2, "seed": -1, "batch_size": 2}`} {
		res := txt2img(t, ts.URL, body)
		seed := res.info.Seed
		if res.params["seed"] != -1.0 || seed >= 1<<32 || fmt.Sprint(res.info.AllSeeds) != fmt.Sprint([]uint64{seed, seed + 1}) {
			t.Errorf("%s: parameters.seed %v, info seeds %d %v; want -1 and a drawn seed below 2^32", body, res.params["seed"], seed, res.info.AllSeeds)
		}
		again := txt2img(t, ts.URL, fmt.Sprintf(`{"prompt": "A photo of a bag", "steps": 2, "seed": %d, "batch_size": 2}`, seed))
		if !bytes.Equal(res.pngs[1], again.pngs[1]) {
			t.Errorf("%s: the drawn seed %d does not reproduce the images", body, seed)
		}
	}
}

// a1111ErrorOf decodes an AUTOMATIC1111 error body, failing the test when b is not one for
// code.
func a1111ErrorOf(t *testing.T, b []byte, code int) a1111Error {
	t.Helper()
	var e a1111Error
	if err := json.Unmarshal(b, &e); err != nil || e.Error != "HTTPException" || e.Detail == "" ||
		!strings.HasPrefix(e.Errors, fmt.Sprintf("%d: ", code)) {
		t.Errorf("error body %s, want AUTOMATIC1111's {\"error\": \"HTTPException\", \"detail\": ..., \"errors\": \"%d: ...\"}", b, code)
	}
	return e
}

func TestTxt2ImgErrors(t *testing.T) {
	_, ts := newImageTest(t, Config{MaxBodyBytes: 100 << 10})
	long := strings.Repeat("a", engine.MaxPromptBytes+1)
	tests := []struct {
		name, method, path, body string
		code                     int
		detail                   string // a part of the message
	}{
		{"bad JSON", "POST", "/sdapi/v1/txt2img", `{"prompt": "x",`, 400, "invalid JSON"},
		{"not an object", "POST", "/sdapi/v1/txt2img", `["x"]`, 400, "JSON object"},
		{"empty body", "POST", "/sdapi/v1/txt2img", ``, 400, "JSON object"},
		{"no prompt", "POST", "/sdapi/v1/txt2img", `{"steps": 2}`, 400, "prompt"},
		{"empty prompt", "POST", "/sdapi/v1/txt2img", `{"prompt": ""}`, 400, "prompt"},
		{"blank prompt", "POST", "/sdapi/v1/txt2img", `{"prompt": " \n\t"}`, 400, "prompt"},
		{"prompt of wrong type", "POST", "/sdapi/v1/txt2img", `{"prompt": ["a"]}`, 400, "invalid JSON"},
		{"prompt too long", "POST", "/sdapi/v1/txt2img", `{"prompt": "` + long + `"}`, 400, "over the limit"},
		{"negative prompt too long", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "negative_prompt": "` + long + `"}`, 400, "over the limit"},
		{"steps 0", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "steps": 0}`, 400, "steps 0"},
		{"steps negative", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "steps": -3}`, 400, "steps -3"},
		{"steps too many", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "steps": 151}`, 400, "steps 151: want 1 to 150"},
		{"steps fractional", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "steps": 2.5}`, 400, "invalid JSON"},
		{"unknown sampler", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "sampler_name": "DPM++ 2M Karras"}`, 400, "sampler"},
		{"unknown sampler_index", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "sampler_index": "PLMS"}`, 400, "sampler"},
		{"scheduler", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "scheduler": "Karras"}`, 400, "scheduler"},
		{"cfg_scale 0", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "cfg_scale": 0}`, 400, "cfg_scale"},
		{"cfg_scale negative", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "cfg_scale": -1}`, 400, "cfg_scale"},
		{"cfg_scale huge", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "cfg_scale": 101}`, 400, "cfg_scale"},
		{"width 0", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "width": 0}`, 400, "width 0"},
		{"width negative", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "width": -32}`, 400, "width"},
		{"width too large", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "width": 1025}`, 400, "width 1025: want 1 to 1024"},
		{"height too large", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "height": 100000}`, 400, "height"},
		{"width as text", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "width": "64"}`, 400, "invalid JSON"},
		{"batch_size 0", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "batch_size": 0}`, 400, "batch_size"},
		{"batch_size too large", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "batch_size": 9}`, 400, "batch_size"},
		{"n_iter 0", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "n_iter": 0}`, 400, "n_iter"},
		{"too many images", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "batch_size": 4, "n_iter": 3}`, 400, "want 1 to 8 images"},
		{"huge batch × n_iter", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "batch_size": 4294967296, "n_iter": 4294967296}`, 400, "images"},
		{"seed below -1", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "seed": -2}`, 400, "seed"},
		{"fractional seed", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "seed": 1.5}`, 400, "seed"},
		{"seed too large", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "seed": 18446744073709551616}`, 400, "seed"},
		{"seed text", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "seed": "abc"}`, 400, "invalid JSON"},
		{"batch seeds overflow", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "seed": 18446744073709551615, "batch_size": 2}`, 400, "2^64-1"},
		{"hires fix", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "enable_hr": true}`, 400, "enable_hr"},
		{"restore faces", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "restore_faces": true}`, 400, "restore_faces"},
		{"tiling", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "tiling": true}`, 400, "tiling"},
		{"variation seed", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "subseed_strength": 0.3}`, 400, "subseed_strength"},
		{"checkpoint not a string", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "override_settings": {"sd_model_checkpoint": 5}}`, 400, "sd_model_checkpoint"},
		{"unknown model", "POST", "/sdapi/v1/txt2img", `{"prompt": "x", "override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0"}}`, 404, "not found"},
		{"oversize body", "POST", "/sdapi/v1/txt2img", `{"prompt": "` + strings.Repeat("a", 200<<10) + `"}`, 413, "larger than"},
		{"wrong method", "GET", "/sdapi/v1/txt2img", ``, 405, "use POST"},
		{"wrong method on models", "POST", "/sdapi/v1/sd-models", `{}`, 405, "use GET"},
		{"unknown sdapi path", "POST", "/sdapi/v1/img2img", `{}`, 404, "no endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := do(t, tt.method, ts.URL+tt.path, tt.body)
			if code != tt.code {
				t.Errorf("status %d, want %d (%.200s)", code, tt.code, b)
			}
			if e := a1111ErrorOf(t, b, tt.code); !strings.Contains(e.Detail, tt.detail) {
				t.Errorf("detail %q, want it to say %q", e.Detail, tt.detail)
			}
		})
	}
}

func TestTxt2ImgLimits(t *testing.T) {
	_, ts := newImageTest(t, Config{MaxImageSize: 48, MaxImages: 2, MaxImageSteps: 3})
	tests := []struct {
		body string
		code int
	}{
		{`{"prompt": "x", "steps": 3, "width": 48, "height": 48, "batch_size": 2}`, 200},
		{`{"prompt": "x", "steps": 4}`, 400},
		{`{"prompt": "x", "steps": 1, "width": 49}`, 400},
		{`{"prompt": "x", "steps": 1, "batch_size": 3}`, 400},
		{`{"prompt": "x", "steps": 1, "n_iter": 2, "batch_size": 2}`, 400},
		{`{"prompt": "x"}`, 200}, // default steps: min(20, the limit)
	}
	for _, tt := range tests {
		code, b := do(t, "POST", ts.URL+"/sdapi/v1/txt2img", tt.body)
		if code != tt.code {
			t.Errorf("%s: status %d, want %d (%.200s)", tt.body, code, tt.code, b)
		}
	}
}

func TestTxt2ImgBusy(t *testing.T) {
	s, ts := newImageTest(t, Config{Slots: 1})
	held := <-s.slots
	code, b := do(t, "POST", ts.URL+"/sdapi/v1/txt2img", `{"prompt": "x", "steps": 1}`)
	if code != http.StatusServiceUnavailable {
		t.Errorf("busy txt2img = %d %s, want 503", code, b)
	}
	a1111ErrorOf(t, b, http.StatusServiceUnavailable)
	if code, b := do(t, "GET", ts.URL+"/sdapi/v1/sd-models", ""); code != http.StatusOK {
		t.Errorf("busy sd-models = %d %s, want 200 (takes no slot)", code, b)
	}
	// A bad request fails on its own before waiting for a slot.
	if code, _ := do(t, "POST", ts.URL+"/sdapi/v1/txt2img", `{"prompt": ""}`); code != http.StatusBadRequest {
		t.Errorf("busy bad request = %d, want 400", code)
	}
	s.release(held)
	if code, b := do(t, "POST", ts.URL+"/sdapi/v1/txt2img", `{"prompt": "x", "steps": 1}`); code != http.StatusOK {
		t.Errorf("after a release: %d %s", code, b)
	}
	if len(s.slots) != 1 {
		t.Errorf("%d free slots after the request, want 1", len(s.slots))
	}
}

func TestSDAPILists(t *testing.T) {
	_, ts := newImageTest(t, Config{})
	digest := testImageEngine(t).Models()[0].Digest.String()
	tests := []struct{ path, want string }{
		{"/sdapi/v1/sd-models", `[{"title":"base [` + digest[:10] + `]","model_name":"base","hash":"` + digest[:10] +
			`","sha256":"` + digest + `","filename":"base.gguf","config":null}]`},
		{"/sdapi/v1/samplers", `[{"name":"DDIM","aliases":["ddim"],"options":{}},{"name":"Euler","aliases":["k_euler"],"options":{}},` +
			`{"name":"Euler a","aliases":["k_euler_a","k_euler_ancestral"],"options":{}}]`},
		{"/sdapi/v1/options", `{"sd_model_checkpoint":"base [` + digest[:10] + `]"}`},
		{"/health", `{"status":"ok"}`},
	}
	for _, tt := range tests {
		code, b := do(t, "GET", ts.URL+tt.path, "")
		if code != http.StatusOK || strings.TrimSpace(string(b)) != tt.want {
			t.Errorf("GET %s = %d %s, want %s", tt.path, code, b, tt.want)
		}
	}
	// Every sampler listed is one the engine runs.
	for _, s := range samplers {
		txt2img(t, ts.URL, `{"prompt": "A photo of a bag", "steps": 1, "seed": 1, "sampler_name": "`+s.Name+`"}`)
	}
}

// TestImageAndText serves both engines from one server: each family's routes answer, with its
// own error shape.
func TestImageAndText(t *testing.T) {
	_, ts := serveTest(t, Config{LLMs: []*llm.Engine{testEngine(t)}, Image: testImageEngine(t)})
	if code, b := do(t, "POST", ts.URL+"/completion", `{"prompt": "In the beginning", "n_predict": 5, "temperature": 0}`); code != 200 ||
		decode(t, b)["content"] != "corr days return loss藏" {
		t.Errorf("/completion = %d %s", code, b)
	}
	txt2img(t, ts.URL, `{"prompt": "A photo of a bag", "steps": 1}`)
	_, b := do(t, "POST", ts.URL+"/completion", `{}`)
	var e errorBody
	if json.Unmarshal(b, &e); e.Error.Code != 400 {
		t.Errorf("/completion error %s, want llama-server's shape", b)
	}
	_, b = do(t, "POST", ts.URL+"/sdapi/v1/txt2img", `{}`)
	a1111ErrorOf(t, b, 400)

	// Image only: no text routes.
	_, ts2 := newImageTest(t, Config{})
	if code, _ := do(t, "POST", ts2.URL+"/completion", `{"prompt": "x"}`); code != http.StatusNotFound {
		t.Errorf("/completion without a text model = %d, want 404", code)
	}
	if _, err := New(Config{Image: testImageEngine(t), Profile: tensor.Profile{Name: "custom", Lanes: 3}}); err == nil {
		t.Error("New with a custom profile and an image engine: no error")
	}
}

func BenchmarkTxt2Img32Steps20(b *testing.B) {
	benchPost(b, Config{Image: testImageEngine(b)}, "/sdapi/v1/txt2img", `{"prompt": "A photo of a bag", "seed": 1, "steps": 20}`)
}

func BenchmarkTxt2Img512Steps20(b *testing.B) {
	benchPost(b, Config{Image: testImageEngine(b)}, "/sdapi/v1/txt2img",
		`{"prompt": "A photo of a bag", "seed": 1, "steps": 20, "width": 512, "height": 512}`)
}

// TestTxt2ImgTestdata posts the testdata/sdapi requests, as AUTOMATIC1111 clients write them.
func TestTxt2ImgTestdata(t *testing.T) {
	_, ts := newImageTest(t, Config{})
	tests := []struct {
		file          string
		images, seeds int
		width, height int
		sampler       string
	}{
		{"txt2img-minimal.request.json", 1, 1, 32, 32, "DDIM"},
		{"txt2img-a1111-client.request.json", 2, 2, 64, 64, "Euler a"},
		{"txt2img-batch.request.json", 0, 4, 100, 50, "DDIM"},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", "sdapi", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		res := txt2img(t, ts.URL, string(b))
		if len(res.images) != tt.images || len(res.info.AllSeeds) != tt.seeds || res.info.SamplerName != tt.sampler {
			t.Errorf("%s: %d images, %d seeds, sampler %s; want %d, %d, %s", tt.file, len(res.images), len(res.info.AllSeeds),
				res.info.SamplerName, tt.images, tt.seeds, tt.sampler)
		}
		for _, img := range res.images {
			if img.Bounds() != image.Rect(0, 0, tt.width, tt.height) {
				t.Errorf("%s: image %v, want %dx%d", tt.file, img.Bounds(), tt.width, tt.height)
			}
		}
	}
}
