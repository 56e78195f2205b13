package report_test

import (
	"context"
	"fmt"
	"os"

	"github.com/genquorum/genquorum/odds/report"
	"github.com/genquorum/genquorum/quorum"
)

// The probability that 3 or 5 verifiers reach a correct majority verdict when each is right
// with p = 0.977, as `genquorum odds --p 0.977 --verifiers 3,5` prints it.
func ExampleCorrect() {
	pts, err := report.ParseProbs("0.977")
	if err != nil {
		panic(err)
	}
	rows, err := report.Correct(context.Background(), []quorum.Rule{quorum.Majority}, pts, []int{3, 5})
	if err != nil {
		panic(err)
	}
	if err := report.WriteRows(os.Stdout, "text", rows, false); err != nil {
		panic(err)
	}
	// Output:
	// rule      t  p      n  need  probability  failure
	// majority  -  0.977  3  2     99.843733%   1.563e-03
	// majority  -  0.977  5  3     99.988249%   1.175e-04
}

// A penalty as the ledger slashes it: 10% (1000 basis points) of a stake, rounded down.
func ExampleSlashPenalty() {
	fmt.Println(report.SlashPenalty(12345, 1000))
	// Output: 1234
}
