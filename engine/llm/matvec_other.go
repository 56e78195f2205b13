//go:build !amd64 || noasm

package llm

func matvecPanel(k int, x, b []float32, y *[panelWidth]float32) { matvecGo(k, x, b, y) }

func matvecPanel4(k int, x []float32, ldx int, b []float32, y []float32, ldy int) bool {
	return false
}

func matvecPanelF16(k int, x []float32, b []uint16, y *[panelWidth]float32) {
	matvecGoF16(k, x, b, y)
}

func matvecPanel4F16(k int, x []float32, ldx int, b []uint16, y []float32, ldy int) bool {
	return false
}

// useHalf12: the portable twelve-row kernel is as fast as the one-row one, and running it
// keeps mulMatHalf's packing tested on every architecture.
const useHalf12 = true

func matvecPanel12F16(k int, xp []float32, b []uint16, y []float32, ldy int) {
	matvec12GoF16(k, xp, b, y, ldy)
}
