//go:build !noasm

package llm

// qkLanesAVX computes qkLanesGo for eight query lanes (strides in bytes).
//
//go:noescape
func qkLanesAVX(hd, nkeys int, qT *float32, ldq int, k *float32, ldk int, s *float32, lds int)

// pvAVX computes pvGo for hd16 groups of sixteen values (ldv in bytes).
//
//go:noescape
func pvAVX(n int, p *float32, v *float32, ldv int, acc *float32, hd16 int)

// qkLanes is qkLanesGo, with the assembly kernel where there is one.
func qkLanes(hd, nkeys int, qT []float32, ldq int, k []float32, ldk int, s []float32, lds int) {
	if !useAVX || hd == 0 || nkeys == 0 {
		qkLanesGo(hd, nkeys, qT, ldq, k, ldk, s, lds)
		return
	}
	_ = qT[(hd-1)*ldq+7]
	_ = k[(nkeys-1)*ldk+hd-1]
	_ = s[(nkeys-1)*lds+7]
	qkLanesAVX(hd, nkeys, &qT[0], ldq*4, &k[0], ldk*4, &s[0], lds*4)
}

// pv is pvGo, with the assembly kernel where there is one.
func pv(p, v []float32, ldv int, acc []float32) {
	hd := len(acc)
	if !useAVX || hd%16 != 0 || hd == 0 || len(p) == 0 {
		pvGo(p, v, ldv, acc)
		return
	}
	_ = v[(len(p)-1)*ldv+hd-1]
	pvAVX(len(p), &p[0], &v[0], ldv*4, &acc[0], hd/16)
}
