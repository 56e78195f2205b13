package server_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

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
