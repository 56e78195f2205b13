//go:build unix && !linux

package gguf

const populateFlag = 0
