//go:build !amd64 || noasm

package llm

func q8DotsAsm(nb int, x, w []int8, dst []int32) int { return 0 }

func q8MatVecAsm(nb int, x []int8, xd []float32, w []int8, scT []float32, stride int, dst []float32) int {
	return 0
}

// useQ8Lanes: the portable lane kernel is used where there is no assembly, so that the
// batched path is tested on every architecture.
const useQ8Lanes = true

func q8Lanes(n32 int, a *q8LaneActs, lanes []uint8, sc []float32, lds int, dst []float32, ldd int) {
	q8LanesGo(n32, a, lanes, sc, lds, dst, ldd)
}
