package engine_test

import (
	"fmt"

	"github.com/genquorum/genquorum/engine"
)

// A task's identity is the SHA-256 of its canonical encoding, the same on every node.
func ExampleTask_Digest() {
	task := engine.Task{
		Kind:   engine.KindImage,
		Model:  engine.ModelRef{Name: "base"},
		Prompt: "A photo of a bag",
		Seed:   42,
		Image:  &engine.ImageParams{Sampler: "ddim", Steps: 20, CFGScale: 3},
	}
	if err := task.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	again := task
	again.Seed = 43
	fmt.Println(task.Digest() == again.Digest())
	// Output: false
}
