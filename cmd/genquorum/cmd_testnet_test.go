package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTestnet(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "testnet", "--validators", "3", "--out", out, "--base-port", "40000")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Count(stdout, "\n"); got != 3 {
		t.Errorf("printed %d lines, want 3:\n%s", got, stdout)
	}
	for i := range 3 {
		if _, err := os.Stat(filepath.Join(out, "node"+string(rune('0'+i)), "config", "genesis.json")); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "tcp://127.0.0.1:40005") {
		t.Errorf("node2's RPC address missing:\n%s", stdout)
	}
	tests := [][]string{
		{"testnet", "--validators", "3"},
		{"testnet", "--validators", "0", "--out", t.TempDir()},
		{"testnet", "--validators", "2", "--out", t.TempDir(), "--hosts", "a"},
	}
	for _, args := range tests {
		if _, _, code := runCLI(t, args...); code != exitUsage {
			t.Errorf("genquorum %v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if _, _, code := runCLI(t, "testnet", "--validators", "3", "--out", out); code != exitError {
		t.Errorf("testnet over existing homes: exit %d, want %d", code, exitError)
	}
}
