package table_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/genquorum/genquorum/collide/table"
)

// Count the pairs of 16-bit hashes within distance 0, 1 and 2 of each other, among all
// pairs and within each group of the "prompt" column.
func ExampleCountAll() {
	const tsv = "hex\tprompt\n00ff\ta\n00fe\tb\n00fc\ta\nff00\tb\n"
	kinds, err := table.Read(strings.NewReader(tsv), table.ReadOptions{GroupColumn: "prompt"})
	if err != nil {
		panic(err)
	}
	results, err := table.CountAll(context.Background(), kinds, "both", table.CountOptions{Tolerance: 2})
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Println(r.Scope, r.Pairs, "pairs, within d = 0, 1, 2:", r.Collisions)
	}
	// Output:
	// groups 2 pairs, within d = 0, 1, 2: [0 0 1]
	// all 6 pairs, within d = 0, 1, 2: [0 2 3]
}
