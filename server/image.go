package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
)

// sdapiPrefix starts the paths of AUTOMATIC1111's API.
const sdapiPrefix = "/sdapi/"

// imageModel is a served image model.
type imageModel struct {
	ref    engine.ModelRef
	native int // side of the square images the model makes
}

// shortHash is AUTOMATIC1111's short model hash: the first 10 hex digits of the SHA-256.
func (m imageModel) shortHash() string { return m.ref.Digest.String()[:10] }

// title is AUTOMATIC1111's checkpoint title, "name [short hash]".
func (m imageModel) title() string { return m.ref.Name + " [" + m.shortHash() + "]" }

// loadImageModels lists Config.Image's models and their native sizes.
func (s *Server) loadImageModels() error {
	for _, ref := range s.cfg.Image.Models() {
		nm, ok := s.cfg.Image.Lookup(ref)
		if !ok {
			return fmt.Errorf("server: image engine lists model %s but cannot find it", ref)
		}
		s.images = append(s.images, imageModel{ref: ref, native: nm.Model.Config.ImageSize})
	}
	if len(s.images) == 0 {
		return fmt.Errorf("server: the image engine serves no model")
	}
	return nil
}

// registerImage adds the image engine's routes (AUTOMATIC1111's API) to mux.
func (s *Server) registerImage(mux *http.ServeMux) {
	s.handle(mux, "POST", "/sdapi/v1/txt2img", writeA1111Error,
		postJSON(s, writeA1111Error, s.txt2imgRequest, takesSlot, plain(s.txt2img)))
	s.handle(mux, "GET", "/sdapi/v1/sd-models", writeA1111Error, s.handleSDModels)
	s.handle(mux, "GET", "/sdapi/v1/samplers", writeA1111Error, s.handleSamplers)
	s.handle(mux, "GET", "/sdapi/v1/options", writeA1111Error, s.handleOptions)
}

// a1111Error is AUTOMATIC1111's error body (its API middleware's handle_exception).
type a1111Error struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
	Body   string `json:"body"`
	Errors string `json:"errors"`
}

// writeA1111Error writes an error as AUTOMATIC1111 does for an HTTPException.
func writeA1111Error(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, a1111Error{Error: "HTTPException", Detail: msg, Errors: fmt.Sprintf("%d: %s", code, msg)})
}

// imageModel returns the image model named name (its name, title or name.gguf; the first
// when name is ""), or an httpError 404.
func (s *Server) imageModel(name string) (imageModel, error) {
	if name == "" {
		return s.images[0], nil
	}
	titles := make([]string, len(s.images))
	for i, m := range s.images {
		if name == m.ref.Name || name == m.title() || name == m.ref.Name+".gguf" {
			return m, nil
		}
		titles[i] = m.title()
	}
	return imageModel{}, fail(http.StatusNotFound, "model %q not found (serving %s)", truncate(name, 80), strings.Join(titles, ", "))
}

// txt2imgRequest decodes a txt2img body under the server's limits, resolves its model and
// size, and draws its seed when it asks for a random one.
func (s *Server) txt2imgRequest(body []byte) (txt2imgRequest, error) {
	req, err := decodeTxt2Img(body, imageLimits{maxSize: s.cfg.MaxImageSize, maxImages: s.cfg.MaxImages, maxSteps: s.cfg.MaxImageSteps})
	if err != nil {
		return req, err
	}
	if req.model, err = s.imageModel(req.Model); err != nil {
		return req, err
	}
	if req.Width == 0 {
		req.Width = req.model.native
	}
	if req.Height == 0 {
		req.Height = req.model.native
	}
	if req.RandomSeed {
		req.Seed = randomSeed()
	}
	return req, nil
}

// randomSeed draws a seed in [0, 2^32), AUTOMATIC1111's range for seed -1.
func randomSeed() uint64 {
	var b [4]byte
	rand.Read(b[:])
	return uint64(binary.LittleEndian.Uint32(b[:]))
}

// txt2imgParameters is the "parameters" of a txt2img response: the request as applied, the
// defaults filled in (seed as given: -1 when the server drew it).
type txt2imgParameters struct {
	Prompt           string            `json:"prompt"`
	NegativePrompt   string            `json:"negative_prompt"`
	Seed             json.Number       `json:"seed"`
	Steps            int               `json:"steps"`
	CFGScale         float64           `json:"cfg_scale"`
	SamplerName      string            `json:"sampler_name"`
	Scheduler        string            `json:"scheduler"`
	Width            int               `json:"width"`
	Height           int               `json:"height"`
	BatchSize        int               `json:"batch_size"`
	NIter            int               `json:"n_iter"`
	SendImages       bool              `json:"send_images"`
	OverrideSettings map[string]string `json:"override_settings"`
}

// txt2imgInfo is the "info" of a txt2img response, encoded as a JSON string: the subset of
// AUTOMATIC1111's Processed.js() that applies, with the seeds actually used.
type txt2imgInfo struct {
	Prompt                string            `json:"prompt"`
	AllPrompts            []string          `json:"all_prompts"`
	NegativePrompt        string            `json:"negative_prompt"`
	AllNegativePrompts    []string          `json:"all_negative_prompts"`
	Seed                  uint64            `json:"seed"`
	AllSeeds              []uint64          `json:"all_seeds"`
	Width                 int               `json:"width"`
	Height                int               `json:"height"`
	SamplerName           string            `json:"sampler_name"`
	CFGScale              float64           `json:"cfg_scale"`
	Steps                 int               `json:"steps"`
	BatchSize             int               `json:"batch_size"`
	SDModelName           string            `json:"sd_model_name"`
	SDModelHash           string            `json:"sd_model_hash"`
	ExtraGenerationParams map[string]string `json:"extra_generation_params"`
	IndexOfFirstImage     int               `json:"index_of_first_image"`
	Infotexts             []string          `json:"infotexts"`
	JobTimestamp          string            `json:"job_timestamp"`
	Version               string            `json:"version"`
}

// txt2imgResponse is AUTOMATIC1111's TextToImageResponse.
type txt2imgResponse struct {
	Images     []string          `json:"images"` // base64 PNGs
	Parameters txt2imgParameters `json:"parameters"`
	Info       string            `json:"info"`
}

// txt2img generates a txt2img request's images, one after another on one slot: image i has
// seed Seed+i and is the engine's PNG, resized when the request asks for another size.
func (s *Server) txt2img(ctx context.Context, req txt2imgRequest, _ int) (any, error) {
	m := req.model
	n := req.BatchSize * req.NIter
	resized := req.Width != m.native || req.Height != m.native
	params := &engine.ImageParams{NegativePrompt: req.NegativePrompt, Sampler: req.Sampler.Engine, Steps: req.Steps,
		CFGScale: float32(req.CFGScale)}
	images := make([]string, 0, n)
	seeds := make([]uint64, n)
	for i := range n {
		seeds[i] = req.Seed + uint64(i)
		a, err := s.cfg.Image.Run(ctx, engine.Task{Kind: engine.KindImage, Model: m.ref, Prompt: req.Prompt,
			Seed: seeds[i], Profile: s.cfg.Profile.Name, Image: params})
		if err != nil {
			return nil, err
		}
		data := a.Data
		if resized {
			if data, err = resizePNG(data, req.Width, req.Height); err != nil {
				return nil, err
			}
		}
		if req.SendImages {
			images = append(images, base64.StdEncoding.EncodeToString(data))
		}
	}
	extra := map[string]string{
		"Profile":      s.cfg.Profile.Name,
		"Engine":       diffusion.Version,
		"Model digest": m.ref.Digest.String(),
		"Native size":  fmt.Sprintf("%dx%d", m.native, m.native),
	}
	if resized {
		extra["Resize"] = resizeFilter
	}
	info := txt2imgInfo{Prompt: req.Prompt, NegativePrompt: req.NegativePrompt, Seed: seeds[0], AllSeeds: seeds,
		Width: req.Width, Height: req.Height, SamplerName: req.Sampler.Name, CFGScale: req.CFGScale, Steps: req.Steps,
		BatchSize: req.BatchSize, SDModelName: m.ref.Name, SDModelHash: m.shortHash(), ExtraGenerationParams: extra,
		JobTimestamp: s.cfg.Now().Format("20060102150405"), Version: diffusion.Version}
	for i := range n {
		info.AllPrompts = append(info.AllPrompts, req.Prompt)
		info.AllNegativePrompts = append(info.AllNegativePrompts, req.NegativePrompt)
		info.Infotexts = append(info.Infotexts, infotext(&info, seeds[i]))
	}
	infoJSON, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("server: encode info: %w", err)
	}
	return txt2imgResponse{
		Images: images,
		Parameters: txt2imgParameters{Prompt: req.Prompt, NegativePrompt: req.NegativePrompt, Seed: json.Number(req.SeedText),
			Steps: req.Steps, CFGScale: req.CFGScale, SamplerName: req.Sampler.Name, Scheduler: "Automatic",
			Width: req.Width, Height: req.Height, BatchSize: req.BatchSize, NIter: req.NIter, SendImages: req.SendImages,
			OverrideSettings: map[string]string{"sd_model_checkpoint": m.title()}},
		Info: string(infoJSON),
	}, nil
}

// infotext is AUTOMATIC1111's text of one image's parameters (what it stores in the PNG):
// the prompt, "Negative prompt: ..." when there is one, then "Key: value" pairs.
func infotext(info *txt2imgInfo, seed uint64) string {
	var b strings.Builder
	b.WriteString(info.Prompt)
	if info.NegativePrompt != "" {
		b.WriteString("\nNegative prompt: " + info.NegativePrompt)
	}
	pairs := [][2]string{
		{"Steps", strconv.Itoa(info.Steps)},
		{"Sampler", info.SamplerName},
		{"CFG scale", strconv.FormatFloat(info.CFGScale, 'g', -1, 64)},
		{"Seed", strconv.FormatUint(seed, 10)},
		{"Size", fmt.Sprintf("%dx%d", info.Width, info.Height)},
		{"Model hash", info.SDModelHash},
		{"Model", info.SDModelName},
	}
	for _, k := range []string{"Profile", "Engine", "Model digest", "Native size", "Resize"} {
		if v, ok := info.ExtraGenerationParams[k]; ok {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	pairs = append(pairs, [2]string{"Version", info.Version})
	b.WriteString("\n")
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p[0] + ": " + quoteInfo(p[1]))
	}
	return b.String()
}

// quoteInfo quotes an infotext value holding a comma, colon or newline, as AUTOMATIC1111's
// quote (a JSON string).
func quoteInfo(v string) string {
	if !strings.ContainsAny(v, ",:\n") {
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// sdModelItem is AUTOMATIC1111's SDModelItem.
type sdModelItem struct {
	Title     string  `json:"title"`
	ModelName string  `json:"model_name"`
	Hash      string  `json:"hash"`
	SHA256    string  `json:"sha256"`
	Filename  string  `json:"filename"`
	Config    *string `json:"config"`
}

func (s *Server) handleSDModels(w http.ResponseWriter, r *http.Request) {
	items := make([]sdModelItem, len(s.images))
	for i, m := range s.images {
		items[i] = sdModelItem{Title: m.title(), ModelName: m.ref.Name, Hash: m.shortHash(), SHA256: m.ref.Digest.String(),
			Filename: m.ref.Name + ".gguf"}
	}
	writeJSON(w, http.StatusOK, items)
}

// samplerItem is AUTOMATIC1111's SamplerItem.
type samplerItem struct {
	Name    string            `json:"name"`
	Aliases []string          `json:"aliases"`
	Options map[string]string `json:"options"`
}

func (s *Server) handleSamplers(w http.ResponseWriter, r *http.Request) {
	items := make([]samplerItem, len(samplers))
	for i, sm := range samplers {
		items[i] = samplerItem{Name: sm.Name, Aliases: sm.Aliases, Options: map[string]string{}}
	}
	writeJSON(w, http.StatusOK, items)
}

// handleOptions answers GET /sdapi/v1/options with the one option clients read: the default
// checkpoint.
func (s *Server) handleOptions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"sd_model_checkpoint": s.images[0].title()})
}
