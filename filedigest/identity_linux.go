//go:build linux

package filedigest

import (
	"os"
	"syscall"
)

func identityOf(fi os.FileInfo) (Identity, bool) {
	if fi == nil {
		return Identity{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Identity{}, false
	}
	return Identity{
		Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size,
		MtimeNs: st.Mtim.Nano(), CtimeNs: st.Ctim.Nano(),
	}, true
}
