package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedRequests adds the api/ request examples and a few odd bodies to f's corpus.
func seedRequests(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(apiDir, "*.request.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"prompt": ["a", [1, 2], "b"], "n": 2}`, `{"prompt": [1, "x", 2]}`,
		`{"prompt": "x", "seed": 18446744073709551615}`, `{"prompt": "x", "logprobs": null}`, `[1]`, ``, `{"prompt": "x", "stop": ["a", ""], "stream": true, "echo": true}`} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeCompletion(f *testing.F) {
	seedRequests(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeCompletion(body)
		if err != nil {
			return
		}
		if len(req.Prompt) == 0 || req.NPredict < -1 || req.NProbs < 0 || req.TopK < 0 || !(req.TopP >= 0 && req.TopP <= 1) {
			t.Errorf("decodeCompletion(%q) = %+v: out of its documented range", body, req)
		}
	})
}

func FuzzDecodeOpenAI(f *testing.F) {
	seedRequests(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeOpenAI(body)
		if err != nil {
			return
		}
		if len(req.Prompts) == 0 || req.MaxTokens < -1 || req.Logprobs < -1 || req.N < 1 || !(req.TopP >= 0 && req.TopP <= 1) {
			t.Errorf("decodeOpenAI(%q) = %+v: out of its documented range", body, req)
		}
	})
}

func FuzzDecodeTokenize(f *testing.F) {
	f.Add([]byte(`{"content": "In the beginning", "add_special": true, "with_pieces": true}`))
	f.Add([]byte(`{"tokens": [1, 512, 278, 6763]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeTokenize(body)
		decodeDetokenize(body)
	})
}

func FuzzDecodeTxt2Img(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sdapi", "*.request.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"prompt": " "}`, `{"prompt": "x", "seed": 18446744073709551615}`,
		`{"prompt": "x", "seed": "7", "batch_size": 8}`, `{"prompt": "x", "width": 1024, "height": 1}`,
		`{"prompt": "x", "sampler_name": "EULER A", "override_settings": {"sd_model_checkpoint": null}}`, `null`, ``} {
		f.Add([]byte(s))
	}
	lim := imageLimits{maxSize: DefaultMaxImageSize, maxImages: DefaultMaxImages, maxSteps: DefaultMaxImageSteps}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeTxt2Img(body, lim)
		if err != nil {
			return
		}
		n := req.BatchSize * req.NIter
		_, known := findSampler(req.Sampler.Name)
		switch {
		case strings.TrimSpace(req.Prompt) == "", req.Steps < 1, req.Steps > lim.maxSteps,
			!(req.CFGScale > 0 && req.CFGScale <= 100), !known,
			req.Width < 0, req.Width > lim.maxSize, req.Height < 0, req.Height > lim.maxSize,
			req.BatchSize < 1, req.NIter < 1, n < 1, n > lim.maxImages,
			!req.RandomSeed && req.Seed+uint64(n-1) < req.Seed:
			t.Errorf("decodeTxt2Img(%q) = %+v: out of its documented range", body, req)
		}
	})
}

func FuzzDecodeChat(f *testing.F) {
	for _, s := range []string{`{"messages": [{"role": "user", "content": "hi"}]}`,
		`{"model": "gpt-4o", "messages": [{"role": "system", "content": null}, {"role": "user", "content": [{"type": "text", "text": "a"}]}], "stream": true, "stop": ["\n"], "logprobs": true, "top_logprobs": 3, "max_completion_tokens": 5, "n": 2}`,
		`{"messages": [{"role": "user"}], "stop": "x", "logprobs": false}`, `{"messages": {}}`, `{"messages": [1]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeChat(body)
		if err != nil {
			return
		}
		if len(req.Messages) == 0 || req.MaxTokens < -1 || req.N < 1 || req.TopLogprobs < 0 || (req.TopLogprobs > 0 && !req.Logprobs) ||
			len(req.Stop) > maxStops || !(req.TopP >= 0 && req.TopP <= 1) {
			t.Errorf("decodeChat(%q) = %+v: out of its documented range", body, req)
		}
		for _, m := range req.Messages {
			if m.Role == "" {
				t.Errorf("decodeChat(%q): a message without a role", body)
			}
		}
		for _, s := range req.Stop {
			if s == "" || len(s) > maxStopBytes {
				t.Errorf("decodeChat(%q): stop %q", body, s)
			}
		}
	})
}

func FuzzTextGenStops(f *testing.F) {
	f.Add("hello world", "lo w", 3)
	f.Add("a\xe8\x97\x8fb", "\x97", 1)
	f.Fuzz(func(t *testing.T, text, stop string, lastToken int) {
		if lastToken < 0 || lastToken > len(text) {
			return
		}
		g := &textGen{stops: []string{stop}}
		if at := g.findStop(text, lastToken, true); at >= 0 && (stop == "" || !strings.HasPrefix(text[at:], stop) || g.stopWord != stop) {
			t.Errorf("findStop(%q, %q, full) = %d", text, stop, at)
		}
		if at := partialStop(stop, text); at >= 0 && (at >= len(text) || !strings.HasPrefix(stop, text[at:])) {
			t.Errorf("partialStop(%q, %q) = %d", stop, text, at)
		}
		if n := validUTF8Len([]byte(text)); n < len(text)-3 || n > len(text) {
			t.Errorf("validUTF8Len(%q) = %d", text, n)
		}
	})
}
