//go:build !amd64 || noasm

package llm

func q8DotsAsm(nb int, x, w []int8, dst []int32) int { return 0 }
