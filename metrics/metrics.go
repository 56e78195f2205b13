// Package metrics defines genquorum's Prometheus metrics and serves them. A [Node] implements
// node.Observer for one node: it counts what the node does (assignments, commitments and
// reveals included, verdicts it agreed with, times it was outvoted), what the whole ledger
// does as seen in the blocks the node follows (verdicts, slashes by reason, jailings), engine
// runs per model, the assignment queue, commitments and reveals waiting for inclusion and
// their inclusion latency, and the node's store size.
//
// All metric names start with genquorum_. [Handler] serves them together with the process's
// default registry (Go runtime and process collectors, and CometBFT's metrics when its
// instrumentation is on in the same process).
//
// Invariants: counters only move forward; a commitment or reveal counts as in flight from
// the moment the node queues it until the block that includes it, or until its task settles
// without it (then it counts as given up, not as included).
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
)

// Namespace prefixes every metric name.
const Namespace = "genquorum"

// Node outcomes counted by genquorum_node_tasks_total.
const (
	OutcomeAssigned  = "assigned"  // the ledger assigned this node a task round
	OutcomeCommitted = "committed" // its commitment was included
	OutcomeRevealed  = "revealed"  // its reveal was included
	OutcomeAgreed    = "agreed"    // it was among the agreeing executors of a verdict
	OutcomeOutvoted  = "outvoted"  // it was slashed as an outlier
)

// Node is the metrics of one node. Create it with New; it is safe for concurrent use.
type Node struct {
	// Registry holds the genquorum metrics (and nothing else).
	Registry *prometheus.Registry

	me ledger.PubKey

	tasks        *prometheus.CounterVec
	events       *prometheus.CounterVec
	verdicts     *prometheus.CounterVec
	slashes      *prometheus.CounterVec
	slashedStake *prometheus.CounterVec
	jailings     *prometheus.CounterVec
	jailed       prometheus.Gauge
	height       prometheus.Gauge
	queue        prometheus.Gauge
	engineRuns   *prometheus.CounterVec
	engineTime   *prometheus.HistogramVec
	engineBusy   *prometheus.GaugeVec
	txInFlight   *prometheus.GaugeVec
	txLatency    *prometheus.HistogramVec
	txGivenUp    *prometheus.CounterVec

	mu      sync.Mutex
	pending map[pendingKey]time.Time // commitments and reveals queued, not yet included
}

type pendingKey struct {
	kind string
	task ledger.TaskID
}

// New returns the metrics of the node whose ledger key is me. storeBytes, if not nil, is
// called at each scrape for genquorum_store_bytes.
func New(me ledger.PubKey, storeBytes func() float64) *Node {
	m := &Node{Registry: prometheus.NewRegistry(), me: me, pending: map[pendingKey]time.Time{}}
	f := factory{m.Registry}
	m.tasks = f.counters("node_tasks_total", "Task rounds of this node by outcome: assigned, committed (commitment included), revealed (reveal included), agreed (among a verdict's agreeing executors), outvoted (slashed as an outlier).", "outcome")
	m.events = f.counters("ledger_events_total", "Ledger events in the blocks this node followed, by type.", "type")
	m.verdicts = f.counters("ledger_verdicts_total", "Task rounds settled on the ledger: result accepted (a verdict) or no_verdict.", "result")
	m.slashes = f.counters("ledger_slashes_total", "Slashes on the ledger by reason; node is self for this node, other otherwise.", "reason", "node")
	m.slashedStake = f.counters("ledger_slashed_stake_total", "Stake slashed on the ledger by reason.", "reason")
	m.jailings = f.counters("ledger_jailings_total", "Nodes jailed for missed windows; node is self or other.", "node")
	m.jailed = f.gauge("node_jailed", "1 while this node is jailed (from its last jailed/unjailed event), else 0.")
	m.height = f.gauge("node_height", "Height of the last block this node has followed.")
	m.queue = f.gauge("node_queue_depth", "Assignments waiting for a worker of this node.")
	m.engineRuns = f.counters("engine_runs_total", "Engine runs by model and result (ok or error).", "model", "result")
	m.engineTime = f.histograms("engine_run_seconds", "Engine run time by model.", prometheus.ExponentialBuckets(0.005, 2, 16), "model")
	m.engineBusy = f.gauges("engine_running", "Engine runs in progress by model.", "model")
	m.txInFlight = f.gauges("tx_in_flight", "Commitments and reveals (kind) queued by this node and not yet included in a block.", "kind")
	m.txLatency = f.histograms("tx_inclusion_seconds", "Time from queuing a commitment or reveal (kind) to the block that includes it.", prometheus.ExponentialBuckets(0.05, 2, 14), "kind")
	m.txGivenUp = f.counters("tx_given_up_total", "Commitments and reveals (kind) whose task settled before they were included.", "kind")
	for _, o := range []string{OutcomeAssigned, OutcomeCommitted, OutcomeRevealed, OutcomeAgreed, OutcomeOutvoted} {
		m.tasks.WithLabelValues(o) // present at zero from the start
	}
	for _, k := range []string{"commit", "reveal"} {
		m.txInFlight.WithLabelValues(k)
	}
	if storeBytes != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "store_bytes",
			Help: "Size of this node's artifact store on disk, in bytes."}, storeBytes))
	}
	return m
}

type factory struct{ r *prometheus.Registry }

func (f factory) counters(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	f.r.MustRegister(g)
	return g
}

func (f factory) gauges(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(g)
	return g
}

func (f factory) histograms(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}

func (m *Node) who(k ledger.PubKey) string {
	if k == m.me {
		return "self"
	}
	return "other"
}

// Block counts the events of one followed block (node.Observer).
func (m *Node) Block(act *chain.BlockActivity) {
	m.height.Set(float64(act.Height))
	now := time.Now()
	for _, ev := range act.Events {
		m.events.WithLabelValues(ev.Type.String()).Inc()
		switch ev.Type {
		case ledger.EventTaskAssigned:
			for _, n := range ev.Nodes {
				if n == m.me {
					m.tasks.WithLabelValues(OutcomeAssigned).Inc()
				}
			}
		case ledger.EventCommitted:
			if ev.Node == m.me {
				m.tasks.WithLabelValues(OutcomeCommitted).Inc()
				m.included("commit", ev.Task, now)
			}
		case ledger.EventRevealed:
			if ev.Node == m.me {
				m.tasks.WithLabelValues(OutcomeRevealed).Inc()
				m.included("reveal", ev.Task, now)
			}
		case ledger.EventVerdict:
			m.verdicts.WithLabelValues("accepted").Inc()
			for _, n := range ev.Nodes {
				if n == m.me {
					m.tasks.WithLabelValues(OutcomeAgreed).Inc()
				}
			}
			m.settled(ev.Task)
		case ledger.EventNoVerdict:
			m.verdicts.WithLabelValues("no_verdict").Inc()
			m.settled(ev.Task)
		case ledger.EventSlash:
			m.slashes.WithLabelValues(ev.Reason, m.who(ev.Node)).Inc()
			m.slashedStake.WithLabelValues(ev.Reason).Add(float64(ev.Amount))
			if ev.Node == m.me && ev.Reason == ledger.ReasonOutlier {
				m.tasks.WithLabelValues(OutcomeOutvoted).Inc()
			}
		case ledger.EventJailed:
			m.jailings.WithLabelValues(m.who(ev.Node)).Inc()
			if ev.Node == m.me {
				m.jailed.Set(1)
			}
		case ledger.EventUnjailed:
			if ev.Node == m.me {
				m.jailed.Set(0)
			}
		}
	}
}

// included records the inclusion of a queued commitment or reveal.
func (m *Node) included(kind string, task ledger.TaskID, now time.Time) {
	m.mu.Lock()
	t0, ok := m.pending[pendingKey{kind, task}]
	delete(m.pending, pendingKey{kind, task})
	m.mu.Unlock()
	if ok {
		m.txInFlight.WithLabelValues(kind).Dec()
		m.txLatency.WithLabelValues(kind).Observe(now.Sub(t0).Seconds())
	}
}

// settled gives up on whatever of the task is still waiting (its round is over).
func (m *Node) settled(task ledger.TaskID) {
	for _, kind := range []string{"commit", "reveal"} {
		m.mu.Lock()
		_, ok := m.pending[pendingKey{kind, task}]
		delete(m.pending, pendingKey{kind, task})
		m.mu.Unlock()
		if ok {
			m.txInFlight.WithLabelValues(kind).Dec()
			m.txGivenUp.WithLabelValues(kind).Inc()
		}
	}
}

// Queue tracks the assignments waiting for a worker (node.Observer).
func (m *Node) Queue(delta int) { m.queue.Add(float64(delta)) }

// EngineStarted marks a run in progress (node.Observer).
func (m *Node) EngineStarted(model string) { m.engineBusy.WithLabelValues(model).Inc() }

// EngineDone records a finished run (node.Observer).
func (m *Node) EngineDone(model string, d time.Duration, err error) {
	m.engineBusy.WithLabelValues(model).Dec()
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.engineRuns.WithLabelValues(model, result).Inc()
	m.engineTime.WithLabelValues(model).Observe(d.Seconds())
}

// TxQueued starts the inclusion clock of a commitment or reveal (node.Observer). Queuing the
// same one again keeps the first time.
func (m *Node) TxQueued(kind string, task ledger.TaskID) {
	m.mu.Lock()
	k := pendingKey{kind, task}
	_, dup := m.pending[k]
	if !dup {
		m.pending[k] = time.Now()
	}
	m.mu.Unlock()
	if !dup {
		m.txInFlight.WithLabelValues(kind).Inc()
	}
}

// Handler serves the metrics of g (a node's Registry, or nil for none) together with the
// default registry's, in the Prometheus text format.
func Handler(g prometheus.Gatherer) http.Handler {
	gs := prometheus.Gatherers{prometheus.DefaultGatherer}
	if g != nil {
		gs = append(gs, g)
	}
	return promhttp.HandlerFor(gs, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Serve serves h at /metrics on ln until ctx ends, then shuts the server down.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}
