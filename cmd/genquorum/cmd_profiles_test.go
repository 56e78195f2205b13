package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

func TestProfilesText(t *testing.T) {
	stdout, stderr, code := runCLI(t, "profiles")
	if code != exitOK {
		t.Fatalf("profiles: exit %d, stderr %q", code, stderr)
	}
	for _, p := range tensor.Profiles() {
		if !strings.Contains(stdout, p.Name+" ") || !strings.Contains(stdout, p.Description) {
			t.Errorf("profiles output lacks %s:\n%s", p.Name, stdout)
		}
	}
	if !strings.Contains(stdout, "one sequential sum") || !strings.Contains(stdout, "16 interleaved lanes, folded") {
		t.Errorf("profiles output does not describe the splits:\n%s", stdout)
	}
}

func TestProfilesJSON(t *testing.T) {
	stdout, stderr, code := runCLI(t, "profiles", "--format", "json", "exact", "hopper-bf16")
	if code != exitOK {
		t.Fatalf("profiles --format json: exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), stdout)
	}
	var got tensor.ProfileRow
	if err := json.Unmarshal([]byte(lines[1]), &got); err != nil {
		t.Fatal(err)
	}
	want := tensor.ProfileRow{Name: "hopper-bf16", Chunk: 128, Combine: "sequential", FMA: true, Input: "bf16", Accum: "f32", Storage: "bf16"}
	want.Description = got.Description
	if got != want || got.Description == "" {
		t.Errorf("hopper-bf16 as JSON = %+v, want %+v", got, want)
	}
}

func TestProfilesErrors(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"profiles", "no-such-gpu"}, exitUsage},
		{[]string{"profiles", "--format", "xml"}, exitUsage},
	}
	for _, tt := range tests {
		if _, stderr, code := runCLI(t, tt.args...); code != tt.want {
			t.Errorf("genquorum %v: exit %d, want %d (stderr %q)", tt.args, code, tt.want, stderr)
		}
	}
}
