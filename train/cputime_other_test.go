//go:build !unix

package train

import "time"

// processCPU reports ok false: no CPU time on this system.
func processCPU() (cpu time.Duration, faults int64, ok bool) { return 0, 0, false }
