package demo_test

import (
	"fmt"

	"github.com/genquorum/genquorum/demo"
)

// One task in three is an image task; the text workloads take turns in between.
func ExampleMix() {
	img := demo.Workload{Prompts: []string{"image"}}
	text := []demo.Workload{{Prompts: []string{"text-a"}}, {Prompts: []string{"text-b"}}}
	for _, w := range demo.Mix(img, text, 3) {
		fmt.Print(w.Prompts[0], " ")
	}
	fmt.Println()
	// Output: image text-a text-b image text-a text-b
}
