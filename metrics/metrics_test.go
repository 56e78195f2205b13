package metrics

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
)

// scrape fetches url and returns every sample line's value by "name{labels}".
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// TestNodeMetricsMove drives a Node with the events of a task's life, as a node would see them,
// and checks through the HTTP endpoint that each counter and gauge moves as documented.
func TestNodeMetricsMove(t *testing.T) {
	me, other := ledger.PubKey{1}, ledger.PubKey{2}
	task, task2 := ledger.TaskID{7}, ledger.TaskID{8}
	storeSize := 1234.0
	m := New(me, func() float64 { return storeSize })
	srv := httptest.NewServer(Handler(m.Registry))
	defer srv.Close()

	before := scrape(t, srv.URL)
	if before[`genquorum_node_tasks_total{outcome="assigned"}`] != 0 || before["genquorum_store_bytes"] != 1234 {
		t.Fatalf("fresh metrics: assigned %v store %v", before[`genquorum_node_tasks_total{outcome="assigned"}`], before["genquorum_store_bytes"])
	}
	if _, ok := before["go_goroutines"]; !ok {
		t.Error("default registry (Go collector) not served")
	}

	m.Block(&chain.BlockActivity{Height: 10, Events: []ledger.Event{
		{Type: ledger.EventTaskAssigned, Task: task, Nodes: []ledger.PubKey{other, me}},
		{Type: ledger.EventTaskAssigned, Task: task2, Nodes: []ledger.PubKey{me}},
	}})
	m.Queue(2)
	m.Queue(-1)
	m.EngineStarted("tiny")
	mid := scrape(t, srv.URL)
	m.EngineDone("tiny", 30*time.Millisecond, nil)
	m.EngineStarted("tiny")
	m.EngineDone("tiny", time.Millisecond, errors.New("boom"))
	m.TxQueued("commit", task)
	m.TxQueued("commit", task) // queued again (resend): counted once
	m.TxQueued("commit", task2)
	inflight := scrape(t, srv.URL)
	m.Block(&chain.BlockActivity{Height: 11, Events: []ledger.Event{
		{Type: ledger.EventCommitted, Task: task, Node: me},
		{Type: ledger.EventCommitted, Task: task, Node: other},
	}})
	m.TxQueued("reveal", task)
	m.Block(&chain.BlockActivity{Height: 12, Events: []ledger.Event{
		{Type: ledger.EventRevealed, Task: task, Node: me},
		{Type: ledger.EventVerdict, Task: task, Nodes: []ledger.PubKey{me}},
		{Type: ledger.EventSlash, Task: task, Node: other, Amount: 500, Reason: ledger.ReasonOutlier},
		{Type: ledger.EventNoVerdict, Task: task2, Reason: ledger.ReasonNoReveals},
		{Type: ledger.EventSlash, Task: task2, Node: me, Amount: 100, Reason: ledger.ReasonNoReveal},
		{Type: ledger.EventSlash, Task: task2, Node: me, Amount: 70, Reason: ledger.ReasonOutlier},
		{Type: ledger.EventJailed, Task: task2, Node: me, Amount: 3},
	}})
	storeSize = 4321
	after := scrape(t, srv.URL)

	checks := []struct {
		name      string
		got, want float64
	}{
		{"assigned", after[`genquorum_node_tasks_total{outcome="assigned"}`], 2},
		{"committed", after[`genquorum_node_tasks_total{outcome="committed"}`], 1},
		{"revealed", after[`genquorum_node_tasks_total{outcome="revealed"}`], 1},
		{"agreed", after[`genquorum_node_tasks_total{outcome="agreed"}`], 1},
		{"outvoted", after[`genquorum_node_tasks_total{outcome="outvoted"}`], 1},
		{"queue", after["genquorum_node_queue_depth"], 1},
		{"height", after["genquorum_node_height"], 12},
		{"engine running mid-run", mid[`genquorum_engine_running{model="tiny"}`], 1},
		{"engine running after", after[`genquorum_engine_running{model="tiny"}`], 0},
		{"engine ok", after[`genquorum_engine_runs_total{model="tiny",result="ok"}`], 1},
		{"engine error", after[`genquorum_engine_runs_total{model="tiny",result="error"}`], 1},
		{"engine time count", after[`genquorum_engine_run_seconds_count{model="tiny"}`], 2},
		{"engine time sum", after[`genquorum_engine_run_seconds_sum{model="tiny"}`], 0.031},
		{"commits in flight", inflight[`genquorum_tx_in_flight{kind="commit"}`], 2},
		{"commits in flight after", after[`genquorum_tx_in_flight{kind="commit"}`], 0},
		{"reveals in flight after", after[`genquorum_tx_in_flight{kind="reveal"}`], 0},
		{"commit latency count", after[`genquorum_tx_inclusion_seconds_count{kind="commit"}`], 1},
		{"reveal latency count", after[`genquorum_tx_inclusion_seconds_count{kind="reveal"}`], 1},
		{"commit given up", after[`genquorum_tx_given_up_total{kind="commit"}`], 1},
		{"verdicts", after[`genquorum_ledger_verdicts_total{result="accepted"}`], 1},
		{"no verdicts", after[`genquorum_ledger_verdicts_total{result="no_verdict"}`], 1},
		{"slash other outlier", after[`genquorum_ledger_slashes_total{node="other",reason="outlier"}`], 1},
		{"slash self no reveal", after[`genquorum_ledger_slashes_total{node="self",reason="no reveal"}`], 1},
		{"slashed stake outlier", after[`genquorum_ledger_slashed_stake_total{reason="outlier"}`], 570},
		{"jailings self", after[`genquorum_ledger_jailings_total{node="self"}`], 1},
		{"jailed", after["genquorum_node_jailed"], 1},
		{"events committed", after[`genquorum_ledger_events_total{type="committed"}`], 2},
		{"store bytes", after["genquorum_store_bytes"], 4321},
	}
	for _, c := range checks {
		if diff := c.got - c.want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	m.Block(&chain.BlockActivity{Height: 13, Events: []ledger.Event{{Type: ledger.EventUnjailed, Node: me}}})
	if got := scrape(t, srv.URL)["genquorum_node_jailed"]; got != 0 {
		t.Errorf("jailed after unjailed event: %v", got)
	}
}
