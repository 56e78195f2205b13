package remote_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/genquorum/genquorum/engine/remote"
)

func ExampleParseSpec() {
	sp, err := remote.ParseSpec("qwen=openai:http://gpu-1:8000?model=Qwen/Qwen2.5-1.5B-Instruct&server=vllm&batch_invariant=1&retries=5")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sp.Name, sp.Kind, sp.URL, sp.Model, sp.Retries, sp.Options.Get("server"))
	// Output: qwen openai http://gpu-1:8000 Qwen/Qwen2.5-1.5B-Instruct 5 vllm
}

// ExampleSelfTest checks a llama-server before registering it. The server here is a stand-in
// that answers like llama-server with one slot and a deterministic model.
func ExampleSelfTest() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/props":
			fmt.Fprint(w, `{"total_slots":1,"model_path":"models/tiny.gguf","build_info":"b4748-c392e5094"}`)
		case "/tokenize":
			fmt.Fprint(w, `{"tokens":[1,450,4996]}`)
		case "/completion":
			fmt.Fprint(w, `{"content":" fox","tokens":[1701,29916],"tokens_predicted":2,"tokens_evaluated":3}`)
		}
	}))
	defer srv.Close()

	sp, err := remote.ParseSpec("tiny=llamacpp:" + srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	e, err := remote.Open(ctx, sp)
	if err != nil {
		fmt.Println(err)
		return
	}
	probe, other := remote.ProbeTasks(e)
	rep, err := remote.SelfTest(ctx, e, probe, other)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Name())
	fmt.Println(rep.Tokens, rep.Runs)
	// Output:
	// remote/llamacpp:tiny{build=b4748-c392e5094,cache_prompt=false,n_probs=2,sampler=native,slots=1}
	// [1701 29916] 4
}
