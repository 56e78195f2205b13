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
