//go:build !unix

package llm

// cpuSeconds is unavailable here; benchmarks then report no CPU-time metric.
func cpuSeconds() float64 { return 0 }
