//go:build unix

package train

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) of this process so far and its minor page
// faults, or ok false where the system does not say.
func processCPU() (cpu time.Duration, faults int64, ok bool) {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0, 0, false
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano()), int64(r.Minflt), true
}
