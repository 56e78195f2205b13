//go:build !amd64

package llm

func matvecPanel(k int, x, b []float32, y *[panelWidth]float32) { matvecGo(k, x, b, y) }
