package server

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
)

// Defaults of a txt2img request: those of genquorum generate image, so that the same request
// gives the same PNG as the command.
const (
	defaultImageSteps   = 20
	defaultImageSampler = "DDIM"
)

// sampler is a sampler as AUTOMATIC1111 names it and as the engine does.
type sampler struct {
	Name    string   // AUTOMATIC1111's name, e.g. "Euler a"
	Aliases []string // AUTOMATIC1111's aliases
	Engine  string   // the diffusion engine's name
}

// samplers are the samplers of /sdapi/v1/txt2img: the diffusion engine's, under
// AUTOMATIC1111's names.
var samplers = []sampler{
	{Name: "DDIM", Aliases: []string{"ddim"}, Engine: diffusion.SamplerDDIM},
	{Name: "Euler", Aliases: []string{"k_euler"}, Engine: diffusion.SamplerEuler},
	{Name: "Euler a", Aliases: []string{"k_euler_a", "k_euler_ancestral"}, Engine: diffusion.SamplerEulerA},
}

// findSampler returns the sampler with name as its name, an alias or its engine name, in any
// case.
func findSampler(name string) (sampler, bool) {
	for _, s := range samplers {
		if strings.EqualFold(name, s.Name) || strings.EqualFold(name, s.Engine) {
			return s, true
		}
		for _, a := range s.Aliases {
			if strings.EqualFold(name, a) {
				return s, true
			}
		}
	}
	return sampler{}, false
}

func samplerNames() string {
	names := make([]string, len(samplers))
	for i, s := range samplers {
		names[i] = strconv.Quote(s.Name)
	}
	return strings.Join(names, ", ")
}

// imageLimits are the bounds a txt2img request is decoded under.
type imageLimits struct {
	maxSize   int // width and height
	maxImages int // batch_size × n_iter
	maxSteps  int
}

// txt2imgRequest is a decoded POST /sdapi/v1/txt2img body, checked against the imageLimits it
// was decoded under.
type txt2imgRequest struct {
	Prompt         string // not blank
	NegativePrompt string
	Seed           uint64 // the first image's; image i has Seed+i, which does not overflow
	SeedText       string // the seed as given, "-1" when absent (echoed in parameters)
	RandomSeed     bool   // seed -1 or absent: the server draws Seed
	Steps          int    // 1 to maxSteps
	CFGScale       float64
	Sampler        sampler
	Width, Height  int // 1 to maxSize; 0 when absent (the model's native size)
	BatchSize      int // batch_size × n_iter is 1 to maxImages
	NIter          int
	SendImages     bool
	Model          string // override_settings.sd_model_checkpoint; "" means the first model

	model imageModel // set by Server.txt2imgRequest
}

// rawTxt2Img holds the fields of a txt2img body before checking; null is the same as absent,
// as in AUTOMATIC1111's API.
type rawTxt2Img struct {
	Prompt           *string                    `json:"prompt"`
	NegativePrompt   *string                    `json:"negative_prompt"`
	Seed             *json.Number               `json:"seed"`
	Steps            *int                       `json:"steps"`
	CFGScale         *float64                   `json:"cfg_scale"`
	SamplerName      *string                    `json:"sampler_name"`
	SamplerIndex     *string                    `json:"sampler_index"` // AUTOMATIC1111's older name of the field
	Scheduler        *string                    `json:"scheduler"`
	Width            *int                       `json:"width"`
	Height           *int                       `json:"height"`
	BatchSize        *int                       `json:"batch_size"`
	NIter            *int                       `json:"n_iter"`
	SendImages       *bool                      `json:"send_images"`
	OverrideSettings map[string]json.RawMessage `json:"override_settings"`
	// Features this server does not have: refused when asked for rather than ignored, since
	// they would change the images.
	EnableHR        *bool    `json:"enable_hr"`
	RestoreFaces    *bool    `json:"restore_faces"`
	Tiling          *bool    `json:"tiling"`
	SubseedStrength *float64 `json:"subseed_strength"`
}

// decodeTxt2Img decodes and checks a POST /sdapi/v1/txt2img body.
func decodeTxt2Img(body []byte, lim imageLimits) (txt2imgRequest, error) {
	var r rawTxt2Img
	if err := decodeObject(body, &r); err != nil {
		return txt2imgRequest{}, err
	}
	req := txt2imgRequest{SeedText: "-1", RandomSeed: true, Steps: min(defaultImageSteps, lim.maxSteps),
		CFGScale: diffusion.DefaultCFGScale, BatchSize: 1, NIter: 1, SendImages: true}
	req.Sampler, _ = findSampler(defaultImageSampler)
	if r.Prompt != nil {
		req.Prompt = *r.Prompt
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return req, badRequest("prompt is required and must not be blank")
	}
	if r.NegativePrompt != nil {
		req.NegativePrompt = *r.NegativePrompt
	}
	if n := max(len(req.Prompt), len(req.NegativePrompt)); n > engine.MaxPromptBytes {
		return req, badRequest("prompt of %d bytes, over the limit of %d", n, engine.MaxPromptBytes)
	}
	if r.Steps != nil {
		if req.Steps = *r.Steps; req.Steps < 1 || req.Steps > lim.maxSteps {
			return req, badRequest("steps %d: want 1 to %d", req.Steps, lim.maxSteps)
		}
	}
	if r.CFGScale != nil {
		if req.CFGScale = *r.CFGScale; !(req.CFGScale > 0 && req.CFGScale <= 100) {
			return req, badRequest("cfg_scale %v: want more than 0 and at most 100", req.CFGScale)
		}
	}
	name := ""
	if r.SamplerIndex != nil {
		name = *r.SamplerIndex
	}
	if r.SamplerName != nil && *r.SamplerName != "" {
		name = *r.SamplerName
	}
	if name != "" {
		s, ok := findSampler(name)
		if !ok {
			return req, badRequest("sampler %q not found (have %s)", truncate(name, 40), samplerNames())
		}
		req.Sampler = s
	}
	if r.Scheduler != nil && *r.Scheduler != "" && !strings.EqualFold(*r.Scheduler, "automatic") {
		return req, badRequest("scheduler %q not supported: each sampler runs on its own timesteps (send \"Automatic\")", truncate(*r.Scheduler, 40))
	}
	for _, d := range []struct {
		field string
		v     *int
		to    *int
	}{{"width", r.Width, &req.Width}, {"height", r.Height, &req.Height}} {
		if d.v == nil {
			continue
		}
		if *d.to = *d.v; *d.v < 1 || *d.v > lim.maxSize {
			return req, badRequest("%s %d: want 1 to %d", d.field, *d.v, lim.maxSize)
		}
	}
	if r.BatchSize != nil {
		req.BatchSize = *r.BatchSize
	}
	if r.NIter != nil {
		req.NIter = *r.NIter
	}
	if req.BatchSize < 1 || req.NIter < 1 || req.BatchSize > lim.maxImages || req.NIter > lim.maxImages ||
		req.BatchSize*req.NIter > lim.maxImages {
		return req, badRequest("batch_size %d × n_iter %d: want 1 to %d images", req.BatchSize, req.NIter, lim.maxImages)
	}
	if r.Seed != nil {
		req.SeedText = string(*r.Seed)
		if req.SeedText != "-1" {
			s, err := strconv.ParseUint(req.SeedText, 10, 64)
			if err != nil {
				return req, badRequest("seed %s: want an integer in [0, 2^64) or -1", truncate(req.SeedText, 40))
			}
			if s > math.MaxUint64-uint64(req.BatchSize*req.NIter-1) {
				return req, badRequest("seed %d: the batch's seeds seed, seed+1, ... pass 2^64-1", s)
			}
			req.Seed, req.RandomSeed = s, false
		}
	}
	if r.SendImages != nil {
		req.SendImages = *r.SendImages
	}
	if raw, ok := r.OverrideSettings["sd_model_checkpoint"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &req.Model); err != nil {
			return req, badRequest("override_settings.sd_model_checkpoint: want a string")
		}
	}
	switch {
	case r.EnableHR != nil && *r.EnableHR:
		return req, badRequest("enable_hr: the hires fix is not supported")
	case r.RestoreFaces != nil && *r.RestoreFaces:
		return req, badRequest("restore_faces is not supported")
	case r.Tiling != nil && *r.Tiling:
		return req, badRequest("tiling is not supported")
	case r.SubseedStrength != nil && *r.SubseedStrength != 0:
		return req, badRequest("subseed_strength %v: variation seeds are not supported (send 0)", *r.SubseedStrength)
	}
	return req, nil
}
