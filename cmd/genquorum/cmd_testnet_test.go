package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/ledger"
)

func TestTestnet(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "testnet", "--validators", "3", "--out", out, "--base-port", "40000")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := strings.Count(stdout, "\n"); got != 4 {
		t.Errorf("printed %d lines, want 3 homes and the client key:\n%s", got, stdout)
	}
	if _, err := readKeyFile(filepath.Join(out, "client.key")); err != nil {
		t.Error(err)
	}
	gen, err := os.ReadFile(filepath.Join(out, "node0", "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AppState struct {
			Accounts []json.RawMessage
			Params   ledger.Params
		} `json:"app_state"`
	}
	if err := json.Unmarshal(gen, &doc); err != nil || len(doc.AppState.Accounts) != 4 {
		t.Errorf("genesis app_state funds %d accounts (%v), want 3 nodes + 1 client", len(doc.AppState.Accounts), err)
	}
	if p := doc.AppState.Params; p.SpotVerifiers != 2 || p.EscalateVerifiers != 0 {
		t.Errorf("genesis spot verifiers %d, escalation %d; want 2 and 0", p.SpotVerifiers, p.EscalateVerifiers)
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
		{"testnet", "--validators", "2", "--out", t.TempDir(), "--spot-verifiers", "15"}, // no room under max replicas 15
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
