//go:build !noasm

package imghash

import (
	"math/rand/v2"
	"testing"
)

// TestDotRowsKernels runs both whole-row kernels on random weights over Pillow's whole
// range (|k| <= 2^22) and requires the direct int32 sums.
func TestDotRowsKernels(t *testing.T) {
	if !useAVX2 {
		t.Skip("no assembly path on this machine")
	}
	defer func() { useMadd = true }()
	r := rand.New(rand.NewPCG(7, 8))
	src := randBytes(700)
	c := newCoeffs(700, 20)
	if c.padded(); c.vlen == 0 {
		t.Fatal("no vector weights")
	}
	for i := range c.vk {
		c.vk[i] = int32(r.IntN(1<<23+1)) - 1<<22
		c.vkh[i], c.vkl[i] = int16(c.vk[i]>>11), int16(c.vk[i]&2047)
	}
	want := make([]int32, c.out)
	for j := range want {
		for i := range c.vlen {
			want[j] += int32(src[int(c.vstart[j])+i]) * c.vk[j*c.vlen+i]
		}
	}
	for _, madd := range []bool{false, true} {
		useMadd = madd
		got := make([]int32, c.out)
		if madd {
			dotRowsMaddAVX2(&got[0], &src[0], &c.vstart[0], &c.vkh[0], &c.vkl[0], c.out, c.vlen)
		} else {
			dotRowsAVX2(&got[0], &src[0], &c.vstart[0], &c.vk[0], c.out, c.vlen)
		}
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("madd %v: output %d = %d, want %d", madd, j, got[j], want[j])
			}
		}
	}
}
