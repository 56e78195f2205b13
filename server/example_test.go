package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/server"
)

func Example() {
	eng, err := llm.Open("../testdata/llamacpp/models/tiny-llama-a-f32.gguf", llm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := server.New(server.Config{LLMs: []*llm.Engine{eng}})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/completion", "application/json",
		strings.NewReader(`{"prompt": "In the beginning", "n_predict": 5, "temperature": 0, "return_tokens": true}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Content  string  `json:"content"`
		Tokens   []int32 `json:"tokens"`
		StopType string  `json:"stop_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d %q %v %s\n", resp.StatusCode, out.Content, out.Tokens, out.StopType)
	// Output: 200 "corr days return loss藏" [29725 3841 736 6410 31707] limit
}

// The image engine under AUTOMATIC1111's txt2img API: two images (seeds 42 and 43) made at the
// model's 32x32 and resized to 64x64.
func Example_txt2img() {
	eng, err := diffusion.Open("base", "../testdata/diffusion/base-preliminary.gguf")
	if err != nil {
		log.Fatal(err)
	}
	s, err := server.New(server.Config{Image: eng})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	resp, err := http.Post(ts.URL+"/sdapi/v1/txt2img", "application/json", strings.NewReader(
		`{"prompt": "A photo of a bag", "seed": 42, "steps": 2, "batch_size": 2, "width": 64, "height": 64}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Images []string `json:"images"`
		Info   string   `json:"info"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		log.Fatal(err)
	}
	var info struct {
		AllSeeds  []uint64 `json:"all_seeds"`
		Infotexts []string `json:"infotexts"`
	}
	if err := json.Unmarshal([]byte(out.Info), &info); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, info.AllSeeds)
	for i, b64 := range out.Images {
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			log.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%dx%d %s\n", cfg.Width, cfg.Height, strings.SplitN(info.Infotexts[i], ", Model hash", 2)[0])
	}
	// Output:
	// 200 [42 43]
	// 64x64 A photo of a bag
	// Steps: 2, Sampler: DDIM, CFG scale: 3, Seed: 42, Size: 64x64
	// 64x64 A photo of a bag
	// Steps: 2, Sampler: DDIM, CFG scale: 3, Seed: 43, Size: 64x64
}
