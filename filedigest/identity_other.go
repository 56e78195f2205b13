//go:build !linux

package filedigest

import "os"

// identityOf reports false: the cache is used only where the ctime is known (Linux).
func identityOf(fi os.FileInfo) (Identity, bool) { return Identity{}, false }
