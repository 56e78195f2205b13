//go:build linux

package gguf

import "golang.org/x/sys/unix"

const populateFlag = unix.MAP_POPULATE
