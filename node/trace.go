package node

import "time"

// jobTrace records when an assignment passed each step on its way to an included commitment,
// to tell where the time of a late commitment went (the node's log, "commitment included" and
// "assignment ended without this node's commitment").
type jobTrace struct {
	assignedHeight int64     // block that assigned the task (as the follower read it)
	assignedBlock  time.Time // that block's consensus time
	seen           time.Time // the follower read that block
	started        time.Time // a worker took the assignment
	engineStart    time.Time
	engine         time.Duration // engine run (0: no engine run, e.g. a failed query)
	queued         time.Time     // commitment entered the outbox
	sent           time.Time     // first broadcast of a batch holding it
	sentHeight     int64
	sends          int // batches that carried it
}

// traceSeen starts the trace of an assignment read in the block at height (time bt).
func (n *Node) traceSeen(k jobKey, height int64, bt time.Time) {
	n.traceMu.Lock()
	defer n.traceMu.Unlock()
	if n.traces[k] == nil {
		n.traces[k] = &jobTrace{assignedHeight: height, assignedBlock: bt, seen: n.now()}
	}
}

// traceStep updates the trace of k, if there is one.
func (n *Node) traceStep(k jobKey, f func(t *jobTrace)) {
	n.traceMu.Lock()
	defer n.traceMu.Unlock()
	if t := n.traces[k]; t != nil {
		f(t)
	}
}

// traceEnd logs and drops the trace of k: included (the commitment is on chain, in the block
// at height) or not (the assignment ended without it).
func (n *Node) traceEnd(k jobKey, included bool, height int64, bt time.Time) {
	n.traceMu.Lock()
	t := n.traces[k]
	delete(n.traces, k)
	n.traceMu.Unlock()
	if t == nil {
		return
	}
	ms := func(a, b time.Time) int64 {
		if a.IsZero() || b.IsZero() {
			return -1
		}
		return b.Sub(a).Milliseconds()
	}
	attrs := []any{"task", k.task.String()[:12], "round", k.round,
		"assigned_height", t.assignedHeight, "height", height,
		"seen_lag_ms", ms(t.assignedBlock, t.seen), // assignment block time -> follower read it
		"queue_ms", ms(t.seen, t.started), // waiting for a worker
		"engine_ms", t.engine.Milliseconds(),
		"prepare_ms", ms(t.started, t.engineStart), // task query, payload checks, dataset
		"to_outbox_ms", ms(t.started, t.queued), // worker took it -> commitment queued
		"send_wait_ms", ms(t.queued, t.sent), // queued -> first broadcast
		"sent_height", t.sentHeight, "sends", t.sends,
		"total_block_ms", ms(t.assignedBlock, bt), // block time from assignment to this block
	}
	if included {
		attrs = append(attrs, "include_ms", ms(t.sent, n.now()))
		n.logger.Info("commitment included", attrs...)
		return
	}
	n.logger.Warn("assignment ended without this node's commitment", attrs...)
}

// traceSent notes that a batch carrying the commitments of the jobs tasks was broadcast at
// height.
func (n *Node) traceSent(tasks []jobKey, height int64) {
	now := n.now()
	n.traceMu.Lock()
	defer n.traceMu.Unlock()
	for _, k := range tasks {
		if t := n.traces[k]; t != nil {
			if t.sent.IsZero() {
				t.sent, t.sentHeight = now, height
			}
			t.sends++
		}
	}
}
