package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodeConfigMetricsAndCleanStop starts a node process set up only by a --config file and
// $GENQUORUM_* variables (the environment overriding the file), checks that its metrics
// endpoint serves genquorum's and CometBFT's metrics, that CometBFT's own instrumentation port
// from the testnet home answers, and that SIGTERM stops it with no ERROR line in its log.
func TestNodeConfigMetricsAndCleanStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator process")
	}
	dir := t.TempDir()
	base := freeBasePort(t, 2) // P2P, RPC, CometBFT metrics (base+2), node metrics (base+3)
	if _, stderr, code := runCLI(t, "testnet", "--validators", "1", "--out", dir, "--base-port", fmt.Sprint(base)); code != 0 {
		t.Fatal(stderr)
	}
	cfg := filepath.Join(dir, "node.yaml")
	yaml := fmt.Sprintf("home: %s\nfake-models: [fake-a]\nmetrics: 127.0.0.1:%d\np2p-listen:\n  - /ip4/127.0.0.1/tcp/0\nprofile: exact\nlog-level: info\n",
		filepath.Join(dir, "node0"), base+3)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GENQUORUM_PROFILE", "ampere-tf32") // beats the file's exact
	t.Setenv("GENQUORUM_CLASS", "from-env")
	logFile := filepath.Join(dir, "node.log")
	p := startProc(t, logFile, "node", "--config", cfg)
	defer p.stop(t)

	deadline := time.Now().Add(60 * time.Second)
	var body string
	for {
		body = scrapeText(fmt.Sprintf("http://127.0.0.1:%d/metrics", base+3))
		if strings.Contains(body, "genquorum_node_height ") && !strings.Contains(body, "genquorum_node_height 0\n") {
			break
		}
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("node metrics never showed a followed block; log:\n%s", tail(string(b), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"genquorum_node_tasks_total{outcome=\"assigned\"} 0", "genquorum_store_bytes ", "cometbft_consensus_height ", "go_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("node metrics lack %q", want)
		}
	}
	if own := scrapeText(fmt.Sprintf("http://127.0.0.1:%d/metrics", base+2)); !strings.Contains(own, "cometbft_consensus_height ") {
		t.Errorf("CometBFT's instrumentation port %d does not serve its metrics", base+2)
	}
	p.stop(t)
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.Contains(log, "profile=ampere-tf32") {
		t.Errorf("$GENQUORUM_PROFILE did not override the file:\n%s", tail(log, 2000))
	}
	if !strings.Contains(log, "node stopping") {
		t.Errorf("no clean stop logged:\n%s", tail(log, 2000))
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=ERROR") {
			t.Errorf("ERROR line after a clean SIGTERM: %s", l)
		}
	}
}

// scrapeText returns the body at url, or "" when it cannot be fetched yet.
func scrapeText(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
