//go:build !amd64 || noasm

package llm

func q8DotsAsm(nb int, x, w []int8, dst []int32) int { return 0 }

func q8MatVecAsm(nb int, x []int8, xd []float32, w []int8, scT []float32, stride int, dst []float32) int {
	return 0
}
