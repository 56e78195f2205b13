package chain

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// counter is a toy deterministic state machine: txs are "add:<key>:<nonce>" and increment key
// (the nonce only makes each tx unique, as ledger nonces do).
type counter struct {
	mu              sync.Mutex
	height          int64
	committed       map[string]int
	staged          map[string]int
	hash, stageHash []byte
}

func newCounter() *counter { return &counter{committed: map[string]int{}} }

func (c *counter) InitChain(string, []byte) ([]byte, error) { return nil, nil }

func (c *counter) CheckTx(tx []byte) error {
	if !strings.HasPrefix(string(tx), "add:") {
		return errors.New("counter: want add:<key>")
	}
	return nil
}

func (c *counter) FinalizeBlock(height int64, _ []byte, _ uint64, txs [][]byte) (BlockResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.staged = map[string]int{}
	for k, v := range c.committed {
		c.staged[k] = v
	}
	var res BlockResult
	for _, tx := range txs {
		if err := c.CheckTx(tx); err != nil {
			res.Txs = append(res.Txs, TxResult{Code: 2, Log: err.Error()})
			continue
		}
		key, _, _ := strings.Cut(strings.TrimPrefix(string(tx), "add:"), ":")
		c.staged[key]++
		res.Txs = append(res.Txs, TxResult{Events: []Event{{Type: "add", Attributes: []Attribute{{"key", string(tx)}}}}})
	}
	h := sha256.New()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range c.staged {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(h, "%s=%d;", k, c.staged[k])
	}
	if len(c.staged) > 0 {
		c.stageHash = h.Sum(nil)
	}
	c.height = height
	res.AppHash = c.stageHash
	return res, nil
}

func (c *counter) Commit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.committed, c.hash = c.staged, c.stageHash
	return nil
}

func (c *counter) Query(path string, data []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Appendf(nil, "%d", c.committed[string(data)]), nil
}

func (c *counter) Height() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hash == nil && len(c.committed) == 0 {
		return 0
	}
	return c.height
}

func (c *counter) AppHash() []byte { return c.hash }

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestSingleValidatorSubmitQueryRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT validator")
	}
	home := filepath.Join(t.TempDir(), "home")
	ports := freePorts(t, 2)
	s := Settings{P2PAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]), RPCAddr: fmt.Sprintf("tcp://127.0.0.1:%d", ports[1]), EmptyBlockInterval: 50 * time.Millisecond}
	if err := InitHome(home, s); err != nil {
		t.Fatal(err)
	}
	if err := InitHome(home, s); !errors.Is(err, ErrHomeExists) {
		t.Errorf("InitHome twice = %v, want ErrHomeExists", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	logger := testLogger(t)

	sm := newCounter()
	n, err := StartNode(ctx, home, sm, logger)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(logger, n.Local())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := c.Submit(ctx, fmt.Appendf(nil, "add:x%d:%d", i%2, i)); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	if _, err := c.Submit(ctx, []byte("bogus")); err == nil {
		t.Error("Submit(bogus) = nil, want a CheckTx rejection")
	} else if re := (*TxRejectedError)(nil); !errors.As(err, &re) {
		t.Errorf("Submit(bogus) = %v, want *TxRejectedError", err)
	}
	got, err := c.Query(ctx, "count", []byte("x0"))
	if err != nil || string(got) != "3" {
		t.Fatalf("Query(x0) = %q, %v; want 3", got, err)
	}
	wantHash := slices.Clone(sm.AppHash())
	wantHeight := sm.Height()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}

	// Restart from the home with a fresh, empty state machine: CometBFT replays the stored
	// blocks and the state comes back identical.
	sm2 := newCounter()
	n2, err := StartNode(ctx, home, sm2, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Stop()
	c2, _ := NewClient(logger, n2.Local())
	if _, err := c2.Submit(ctx, []byte("add:x1:100")); err != nil {
		t.Fatalf("Submit after restart: %v", err)
	}
	got, err = c2.Query(ctx, "count", []byte("x1"))
	if err != nil || string(got) != "3" {
		t.Errorf("after restart Query(x1) = %q, %v; want 3 (2 replayed + 1 new)", got, err)
	}
	if sm2.committed["x0"] != 3 {
		t.Errorf("replayed state x0 = %d, want 3", sm2.committed["x0"])
	}
	// sm2 has replayed past the old height, so compare the hash a block later by replaying
	// the same txs into a third machine is unnecessary: the old hash must equal sm2's at the
	// old height, which CometBFT itself checks during the handshake (a mismatch fails start).
	if sm2.Height() <= wantHeight || len(wantHash) == 0 {
		t.Errorf("after restart height %d, want > %d", sm2.Height(), wantHeight)
	}
}

func TestWriteTestnet(t *testing.T) {
	out := t.TempDir()
	tn, err := WriteTestnet(out, TestnetOptions{Validators: 4, BasePort: 36656})
	if err != nil {
		t.Fatal(err)
	}
	if len(tn.Homes) != 4 {
		t.Fatalf("got %d homes, want 4", len(tn.Homes))
	}
	for i, home := range tn.Homes {
		c, err := LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(c.P2P.PersistentPeers, "@"); got != 3 {
			t.Errorf("node%d has %d persistent peers, want 3", i, got)
		}
		if c.P2P.PexReactor || c.P2P.AddrBookStrict || !c.P2P.AllowDuplicateIP {
			t.Errorf("node%d: loopback settings not applied", i)
		}
		if want := fmt.Sprintf("tcp://127.0.0.1:%d", 36656+2*i+1); c.RPC.ListenAddress != want {
			t.Errorf("node%d rpc = %s, want %s", i, c.RPC.ListenAddress, want)
		}
		// CometBFT's instrumentation is on, each validator on its own port after the RPC ones.
		if want := fmt.Sprintf("127.0.0.1:%d", 36656+8+i); !c.Instrumentation.Prometheus ||
			c.Instrumentation.PrometheusListenAddr != want || tn.MetricsAddrs[i] != want {
			t.Errorf("node%d prometheus %v at %s (reported %v), want on at %s", i, c.Instrumentation.Prometheus,
				c.Instrumentation.PrometheusListenAddr, tn.MetricsAddrs, want)
		}
	}
	off, err := WriteTestnet(t.TempDir(), TestnetOptions{Validators: 1, BasePort: 36656, MetricsBasePort: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := LoadConfig(off.Homes[0]); err != nil || c.Instrumentation.Prometheus || len(off.MetricsAddrs) != 0 {
		t.Errorf("MetricsBasePort -1: prometheus %v, addrs %v, err %v", c.Instrumentation.Prometheus, off.MetricsAddrs, err)
	}
	if _, err := WriteTestnet(out, TestnetOptions{Validators: 4}); !errors.Is(err, ErrHomeExists) {
		t.Errorf("WriteTestnet over existing homes = %v, want ErrHomeExists", err)
	}
	if _, err := WriteTestnet(t.TempDir(), TestnetOptions{Validators: 0}); err == nil {
		t.Error("WriteTestnet(0 validators) = nil error")
	}
}
