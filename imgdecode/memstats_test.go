package imgdecode

import "runtime"

type runtimeMemStats struct{ runtime.MemStats }

func (m *runtimeMemStats) read() { runtime.ReadMemStats(&m.MemStats) }
