package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/imgdecode"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/p2p"
)

// TestImageTasksOnTestnet runs a 3-validator testnet as three node processes serving the
// built-in image models (node --image-model base --image-model lora; the third a tamperer
// that serves doctored PNGs), submits image tasks with non-default sampling flags through the
// CLI, and checks that each is settled by the image fingerprint with all three executors
// agreeing, that fetch returns a PNG within the tolerance and exactly the one genquorum
// generate image writes with the same flags when it comes from an honest node (the nodes run
// the exact profile), and audits every executor's artifact. The testnet's genesis registers
// the built-in base model's measured verification policy, so base's task (no --scheme, no
// --tolerance) settles under pHash/16 at tolerance 10 and genquorum task prints the policy and
// the verdict's odds; a base task asking for --scheme image:average_hash/8 is refused. lora
// has no policy and keeps the submitter's aHash/8 at 2.
func TestImageTasksOnTestnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 validator processes")
	}
	dir := t.TempDir()
	base := freeBasePort(t, 3)
	if _, stderr, code := runCLI(t, "testnet", "--validators", "3", "--out", dir, "--base-port", fmt.Sprint(base),
		"--commit-window", "10", "--reveal-window", "10"); code != 0 {
		t.Fatal(stderr)
	}
	rpc := func(i int) string { return fmt.Sprintf("tcp://127.0.0.1:%d", base+2*i+1) }
	procs := make([]*proc, 3)
	for i := range procs {
		args := []string{"node", "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)), "--image-model", "base", "--image-model", "lora", "--log-level", "warn"}
		if i == 2 {
			// Reveals the honest fingerprint but serves a doctored PNG: it agrees on the
			// ledger, and fetch must pass it over (its bytes do not match the revealed digest).
			args = append(args, "--behaviour", "tamperer")
		}
		procs[i] = startProc(t, filepath.Join(dir, fmt.Sprintf("node%d.log", i)), args...)
	}
	defer func() {
		for _, p := range procs {
			p.stop(t)
		}
	}()
	waitImageNodes(t, rpc(0), procs, 3)
	waitImageNodes(t, rpc(1), procs, 3) // the validator the client submits to

	submit := func(model string, flags ...string) []string {
		return append([]string{"submit", "--key", filepath.Join(dir, "client.key"), "--rpc", rpc(1), "--kind", "image",
			"--model", model, "--prompt", "A photo of a bag", "--replicas", "3", "--timeout", "120s", "--format", "json"}, flags...)
	}
	if _, stderr, code := runCLI(t, submit("base", "--scheme", "image:average_hash/8", "--tolerance", "2")...); code == 0 || !strings.Contains(stderr, "verification policy") {
		t.Errorf("a base task at aHash/8, tolerance 2: exit %d, %s; want refused for the model's policy", code, stderr)
	}
	for _, tt := range []struct {
		model  string
		flags  []string
		submit []string // settlement flags
		policy string   // the policy's scheme, "" for none
		hexLen int      // of the accepted fingerprint
	}{
		// --tolerance 2 (as the README's walk-through gives it) gives way to the policy's.
		{"base", []string{"--seed", "7", "--steps", "6", "--sampler", "euler", "--cfg-scale", "2.5"}, []string{"--tolerance", "2"}, "image:phash/16", 64},
		{"lora", []string{"--seed", "11", "--steps", "4", "--sampler", "euler_a", "--cfg-scale", "1.5", "--width", "32", "--height", "64",
			"--negative-prompt", "A photo of a shirt"}, []string{"--tolerance", "2"}, "", 16},
	} {
		t.Run(tt.model, func(t *testing.T) {
			prompt := "A photo of a bag"
			args := append(submit(tt.model, tt.submit...), tt.flags...)
			stdout, stderr, code := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("submit: exit %d: %s", code, stderr)
			}
			if tt.policy != "" && !strings.Contains(stderr, "verification policy "+tt.policy+" at tolerance 10 (not --tolerance 2") {
				t.Errorf("submit's stderr %q does not name the policy that replaced --tolerance 2", stderr)
			}
			var tv chain.TaskView
			if err := json.Unmarshal([]byte(stdout), &tv); err != nil {
				t.Fatal(err)
			}
			if tv.Status != "accepted" || tv.Support != 3 || tv.Kind != "image" {
				t.Fatalf("task %s: %s %s with support %d, want an accepted image task with support 3", tv.ID, tv.Kind, tv.Status, tv.Support)
			}
			if len(tv.Value) != tt.hexLen {
				t.Errorf("accepted fingerprint %q: want %d hex digits", tv.Value, tt.hexLen)
			}
			switch {
			case tt.policy == "" && tv.Policy != nil:
				t.Errorf("task settled under policy %s, want none", tv.Policy.Scheme())
			case tt.policy != "" && (tv.Policy == nil || tv.Policy.Scheme() != tt.policy || tv.Tolerance != tv.Policy.Parts[0].Tolerance):
				t.Errorf("task's policy %+v, tolerance %d; want %s at its tolerance", tv.Policy, tv.Tolerance, tt.policy)
			case tt.policy != "":
				out, stderr, code := runCLI(t, "task", tv.ID, "--rpc", rpc(0))
				if code != 0 || !strings.Contains(out, "policy    "+tt.policy+" (tolerance 10)") || !strings.Contains(out, "odds      correct verdict 1 ") {
					t.Errorf("genquorum task: exit %d, %s%s; want the policy and the odds", code, out, stderr)
				}
			}
			want := filepath.Join(dir, tt.model+"-local.png")
			gen := append([]string{"generate", "image", "--model", tt.model, "--prompt", prompt, "--out", want}, tt.flags...)
			if _, stderr, code := runCLI(t, gen...); code != 0 {
				t.Fatalf("generate image: exit %d: %s", code, stderr)
			}
			got := filepath.Join(dir, tt.model+"-fetched.png")
			stdout, stderr, code = runCLI(t, "fetch", tv.ID, "--rpc", rpc(2), "--out", got)
			if code != 0 {
				t.Fatalf("fetch: exit %d: %s %s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "distance 0") {
				t.Errorf("fetch output %q: want distance 0", stdout)
			}
			if stderr != "" {
				t.Logf("fetch: %s", stderr) // the tamperer, when tried first
			}
			a, _ := os.ReadFile(want)
			b, err := os.ReadFile(got)
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
				t.Fatalf("fetched artifact (%d bytes, %v) is not a PNG", len(b), err)
			}
			wantImg, err := imgdecode.Decode(bytes.NewReader(a), imgdecode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// fetch may deliver the tamperer's pixel-identical PNG (see below): compare pixels.
			if gotImg, err := imgdecode.Decode(bytes.NewReader(b), imgdecode.Options{}); err != nil || !bytes.Equal(gotImg.Gray(), wantImg.Gray()) {
				t.Errorf("fetched PNG's pixels differ from generate image's (%v)", err)
			}
			// Every agreeing executor, the tamperer included, audited one by one: the honest
			// two deliver generate image's PNG byte for byte. The tamperer's PNG (the node
			// package's tamperer flips the file's last byte, the IEND chunk's CRC) has other
			// bytes; its revealed digest is of those bytes and its pixels, hence its perceptual
			// hash, are the honest ones, so fetch's checks (digest, fingerprint within the
			// tolerance) accept it: pixel-identical tampering is not detectable by design.
			cc, _, err := (&rpcOptions{rpc: []string{rpc(0)}}).client(t.Context(), &globalOptions{logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			host, err := p2p.NewHost(t.Context(), p2p.Config{PrivateKey: key}, discardLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer host.Close()
			id, err := parseTaskID(tv.ID)
			if err != nil {
				t.Fatal(err)
			}
			exact, doctored := 0, 0
			for _, e := range tv.Executors {
				f, err := node.FetchFromExecutor(t.Context(), cc, host, id, e.Node, node.FetchOptions{})
				if err != nil {
					t.Errorf("executor %s refused: %v", e.Node[:12], err)
					continue
				}
				if bytes.Equal(f.Data, a) {
					exact++
					continue
				}
				doctored++
				got, err := imgdecode.Decode(bytes.NewReader(f.Data), imgdecode.Options{})
				if err != nil || !bytes.Equal(got.Gray(), wantImg.Gray()) {
					t.Errorf("executor %s: a PNG with other pixels passed fetch's checks (%v)", e.Node[:12], err)
				}
			}
			if exact != 2 || doctored != 1 {
				t.Errorf("%d executors delivered generate image's PNG and %d another one, want 2 and 1 (the tamperer)", exact, doctored)
			}
		})
	}
}

// waitImageNodes waits until n nodes are registered on the ledger and serve the models.
func waitImageNodes(t *testing.T, rpc string, procs []*proc, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	for {
		cc, _, err := (&rpcOptions{rpc: []string{rpc}}).client(ctx, &globalOptions{logger: discardLogger()})
		if err == nil {
			var nodes []chain.NodeView
			if err := cc.QueryJSON(ctx, chain.QueryNodes, nil, &nodes); err == nil {
				serving := 0
				for _, nv := range nodes {
					has := map[string]bool{}
					for _, m := range nv.Models {
						name, _, _ := strings.Cut(m, "@")
						has[name] = true
					}
					if has["base"] && has["lora"] {
						serving++
					}
				}
				if serving >= n {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			for i, p := range procs {
				b, _ := os.ReadFile(p.log)
				t.Logf("node %d log:\n%s", i, tail(string(b), 2000))
			}
			t.Fatalf("fewer than %d nodes registered with the image models", n)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
