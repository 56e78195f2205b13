package llm

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

func TestExpfAccuracy(t *testing.T) {
	worst := 0.0
	for x := float32(-103); x <= 88; x += 0.0013 {
		got := float64(expf(x))
		want := math.Exp(float64(x))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1)))) - float64(float32(want))
		if ulp == 0 {
			continue
		}
		if e := math.Abs(got-want) / ulp; e > worst {
			worst = e
		}
	}
	if worst > 2 {
		t.Errorf("expf: worst error %.2f ulp, want <= 2", worst)
	}
	for _, tt := range []struct{ x, want float32 }{
		{0, 1}, {float32(math.Inf(-1)), 0}, {-200, 0}, {100, float32(math.Inf(1))},
	} {
		if got := expf(tt.x); got != tt.want {
			t.Errorf("expf(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
	if got := expf(float32(math.NaN())); got == got {
		t.Errorf("expf(NaN) = %v", got)
	}
}

// TestExpfBits pins the bits of expf over a grid, so that a change (or a compiler fusing a
// multiply-add) shows up as a failure.
func TestExpfBits(t *testing.T) {
	h := sha256.New()
	var b [4]byte
	for i := -110000; i <= 90000; i++ {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(expf(float32(i)*0.001+0.0001234)))
		h.Write(b[:])
	}
	const want = "93d10b9c3bf865a0"
	if got := fmt.Sprintf("%x", h.Sum(nil))[:16]; got != want {
		t.Errorf("expf bits digest %s, want %s", got, want)
	}
}
