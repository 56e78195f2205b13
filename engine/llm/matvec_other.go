//go:build !amd64 || noasm

package llm

func matvecPanel(k int, x, b []float32, y *[panelWidth]float32) { matvecGo(k, x, b, y) }
