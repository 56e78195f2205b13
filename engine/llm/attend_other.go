//go:build !amd64 || noasm

package llm

func qkLanes(hd, nkeys int, qT []float32, ldq int, k []float32, ldk int, s []float32, lds int) {
	qkLanesGo(hd, nkeys, qT, ldq, k, ldk, s, lds)
}

func pv(p, v []float32, ldv int, acc []float32) { pvGo(p, v, ldv, acc) }
