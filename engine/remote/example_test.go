package remote_test

import (
	"fmt"

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
