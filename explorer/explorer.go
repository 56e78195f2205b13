// Package explorer serves a web page that shows a genquorum network: its tasks (status,
// verdict, executors with their outcomes and fingerprints, and the odds of the verdict), the
// artifact of a settled task fetched from an agreeing executor (an image shown as an image,
// text as text), its nodes (stake, record, profile, engines, models, jailing) and its latest
// blocks. The page is rendered on the server with html/template (prompts and every other
// string from the chain are untrusted and escaped); a few lines of JavaScript poll the server
// and replace the page's content, so it updates live without a build step.
//
// The explorer learns task IDs by following the chain block by block (the ledger has no
// list-all query): it reads each block's ledger events through a chain.Client, keeps the
// tasks it has seen (the newest MaxTasks) and the last MaxBlocks blocks, and queries each
// task's current state when the page is rendered.
package explorer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/odds"
	"github.com/genquorum/genquorum/p2p"
)

// Limits of what the explorer keeps.
const (
	MaxTasks  = 200
	MaxBlocks = 20
)

// Explorer follows a chain and serves its page. Create it with New, then either call Serve,
// or run Follow and serve Handler yourself.
type Explorer struct {
	client *chain.Client
	host   *p2p.Host // for fetching artifacts; nil: artifacts not shown
	logger *slog.Logger

	mu     sync.Mutex
	tasks  []ledger.TaskID // in order of first sight
	seen   map[ledger.TaskID]bool
	blocks []Block
	height int64
}

// Block is what the page shows of one block.
type Block struct {
	Height int64
	Txs    int
	Events map[string]int
}

// New returns an explorer reading c. host, if not nil, fetches artifacts from executors.
func New(c *chain.Client, host *p2p.Host, logger *slog.Logger) *Explorer {
	return &Explorer{client: c, host: host, logger: logger, seen: map[ledger.TaskID]bool{}}
}

// Follow reads every block from height 1 on, until ctx ends; a block that cannot be read
// (pruned) is skipped.
func (x *Explorer) Follow(ctx context.Context) error {
	h := int64(1)
	for {
		// Follow one block behind the tip: a block's results exist once the next is made.
		if err := x.client.WaitHeight(ctx, h+1); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		act, err := x.client.Activity(ctx, h)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			x.logger.Debug("explorer: skip block", "height", h, "err", err)
			h++
			continue
		}
		x.observe(act)
		h++
	}
}

// Serve follows the chain (Follow) and serves Handler on ln until ctx ends, then shuts the
// server down, giving open requests up to 5 s, and returns Follow's error (nil when it stopped
// because ctx ended). A Follow error does not stop the server: the page then shows what was
// seen. If serving fails, Serve stops following and returns that error.
func (x *Explorer) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: x.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	follow := make(chan error, 1)
	go func() { follow <- x.Follow(fctx) }()
	shut := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(shut)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	err := srv.Serve(ln)
	if !stop() {
		<-shut // the shutdown ran: wait for it
	}
	if !errors.Is(err, http.ErrServerClosed) {
		cancel()
		<-follow
		return err
	}
	return <-follow
}

func (x *Explorer) observe(act *chain.BlockActivity) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := Block{Height: act.Height, Txs: len(act.Txs), Events: map[string]int{}}
	for _, ev := range act.Events {
		b.Events[ev.Type.String()]++
		if ev.Type == ledger.EventTaskAssigned && !x.seen[ev.Task] {
			x.seen[ev.Task] = true
			x.tasks = append(x.tasks, ev.Task)
			if len(x.tasks) > MaxTasks {
				delete(x.seen, x.tasks[0])
				x.tasks = x.tasks[1:]
			}
		}
	}
	x.blocks = append(x.blocks, b)
	if len(x.blocks) > MaxBlocks {
		x.blocks = x.blocks[1:]
	}
	x.height = act.Height
}

// TaskRow is one task on the page.
type TaskRow struct {
	chain.TaskView
	PromptText string
	// Odds is the probability of a correct verdict: under the task's verification policy
	// (node.VerdictOdds) when it has one, else at the network's observed agreement rate.
	Odds string
	// Guess is, under a policy, the probability that a guess passes (at the policy's Type II
	// upper bound), and PolicyNote names the policy and its measured rates.
	Guess, PolicyNote string
	// Check says how the task is checked beyond its replicas: a spot check's probability and
	// the draw's outcome, an escalation (checkNote); empty for a plain replicated task.
	Check string
}

// NodeRow is one node on the page.
type NodeRow struct {
	chain.NodeView
}

// Page is what the template renders.
type Page struct {
	Height    int64
	Tasks     []TaskRow
	Nodes     []NodeRow
	Blocks    []Block
	Agreement string // observed agreement rate p used for the odds
	Errors    []string
}

// page gathers the current state.
func (x *Explorer) page(ctx context.Context) Page {
	x.mu.Lock()
	ids := slices.Clone(x.tasks)
	blocks := slices.Clone(x.blocks)
	p := Page{Height: x.height}
	x.mu.Unlock()
	slices.Reverse(ids)
	slices.Reverse(blocks)
	p.Blocks = blocks
	var agreed, executed int
	for _, id := range ids {
		var tv chain.TaskView
		if err := x.client.QueryJSON(ctx, chain.QueryTask, id[:], &tv); err != nil {
			p.Errors = append(p.Errors, fmt.Sprintf("task %s: %v", id.String()[:12], err))
			continue
		}
		if tv.Status == ledger.StatusAccepted.String() || tv.SettledAt != 0 {
			for _, e := range tv.Executors {
				executed++
				if e.Outcome == ledger.OutcomeAgreed.String() {
					agreed++
				}
			}
		}
		p.Tasks = append(p.Tasks, TaskRow{TaskView: tv, PromptText: string(tv.Prompt), Check: checkNote(&tv)})
	}
	// Odds of each verdict: under its policy, from the policy's measured Type I and Type II
	// (computed here, off-chain: the ledger holds the rates as integers); otherwise the binomial
	// tail at p = the observed share of executors of settled tasks that agreed with the verdict
	// (odds package, Type I).
	for i := range p.Tasks {
		policyOdds(&p.Tasks[i])
	}
	if executed > 0 {
		rate := float64(agreed) / float64(executed)
		p.Agreement = fmt.Sprintf("%d of %d executors agreed (p = %.3f)", agreed, executed, rate)
		for i := range p.Tasks {
			t := &p.Tasks[i]
			n := len(t.Executors)
			if n == 0 || t.Need == 0 || t.Odds != "" {
				continue
			}
			if tail, err := odds.AtLeast(n, int(t.Need), rate); err == nil {
				t.Odds = fmt.Sprintf("%.6f", tail.P)
			}
		}
	}
	var nodes []chain.NodeView
	if err := x.client.QueryJSON(ctx, chain.QueryNodes, nil, &nodes); err != nil {
		p.Errors = append(p.Errors, fmt.Sprintf("nodes: %v", err))
	}
	for _, n := range nodes {
		p.Nodes = append(p.Nodes, NodeRow{n})
	}
	return p
}

// checkNote describes a task's spot check and escalation (ledger.SpotState): the probability
// of verification, whether the draw is pending, verified (with how many verifiers) or left
// the task unverified, and whether the verdict drew extra verifiers.
func checkNote(tv *chain.TaskView) string {
	var parts []string
	if tv.SpotPPM != 0 {
		s := fmt.Sprintf("spot check q = %s", ppmPercent(tv.SpotPPM))
		switch {
		case tv.Spot == nil || tv.Spot.Phase == ledger.SpotNone:
			if tv.Spot != nil && tv.Spot.DrawAt != 0 {
				s += fmt.Sprintf(": drawn at height %d", tv.Spot.DrawAt)
			} else {
				s += ": executor not committed yet"
			}
		case tv.Spot.Phase == ledger.SpotVerified:
			s += ": drawn, verifiers assigned"
		case tv.Spot.Phase == ledger.SpotUnverified && tv.Spot.Note == ledger.ReasonSpotNoVerifiers:
			s += ": drawn, but too few free verifiers: unverified"
		case tv.Spot.Phase == ledger.SpotUnverified:
			s += ": not drawn, unverified"
		}
		parts = append(parts, s)
	}
	if tv.Spot != nil && tv.Spot.Escalated {
		parts = append(parts, "escalated: extra verifiers drawn")
	}
	if tv.Spot != nil && tv.Spot.Note != "" && tv.Spot.Note != ledger.ReasonSpotNoVerifiers {
		parts = append(parts, tv.Spot.Note)
	}
	return strings.Join(parts, "; ")
}

// ppmPercent writes parts per million as a percentage with no trailing zeros.
func ppmPercent(ppm uint32) string {
	s := strconv.FormatFloat(float64(ppm)/1e4, 'f', 4, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " %"
}

// policyOdds fills t's odds from its verification policy, if it has one.
func policyOdds(t *TaskRow) {
	pv := t.Policy
	n := len(t.Executors)
	if pv == nil || n == 0 {
		return
	}
	o, err := node.VerdictOdds(pv, n, t.Rule)
	if err != nil {
		return
	}
	t.Odds = fmt.Sprintf("%.6f (>= %.6f at 95%%)", o.Correct, o.CorrectLow)
	t.Guess = fmt.Sprintf("%.3g", o.Guess)
	var parts []string
	for _, x := range pv.Parts {
		parts = append(parts, fmt.Sprintf("%s t=%d", x.Scheme, x.Tolerance))
	}
	t.PolicyNote = fmt.Sprintf("policy %s: Type I %d ppm, Type II %d ppm (<= %d) measured", strings.Join(parts, " + "),
		pv.TypeIPPM, pv.TypeIIPPM, pv.TypeIIUpper)
}

// Handler serves the page at /, its content alone at /content (for the live update), and
// the artifact of a settled task at /artifact/TASKID.
func (x *Explorer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { x.render(w, r, "page") })
	mux.HandleFunc("GET /content", func(w http.ResponseWriter, r *http.Request) { x.render(w, r, "content") })
	mux.HandleFunc("GET /artifact/{id}", x.artifact)
	return mux
}

func (x *Explorer) render(w http.ResponseWriter, r *http.Request, name string) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	p := x.page(ctx)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'")
	if err := tmpl().ExecuteTemplate(w, name, p); err != nil {
		x.logger.Warn("explorer: render", "err", err)
	}
}

// artifact fetches a settled task's artifact from an agreeing executor (checked against the
// revealed digest and the accepted fingerprint by node.Fetch) and serves it: an image with
// its media type, text as plain text.
func (x *Explorer) artifact(w http.ResponseWriter, r *http.Request) {
	raw, err := hex.DecodeString(r.PathValue("id"))
	if err != nil || len(raw) != 32 {
		http.Error(w, "bad task id", http.StatusBadRequest)
		return
	}
	if x.host == nil {
		http.Error(w, "this explorer fetches no artifacts", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	f, err := node.Fetch(ctx, x.client, x.host, ledger.TaskID(raw), node.FetchOptions{})
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		http.Error(w, err.Error(), status)
		return
	}
	ct := http.DetectContentType(f.Data)
	if f.Tokens != nil || !strings.HasPrefix(ct, "image/") {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Genquorum-From", f.From)
	w.Write(f.Data)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// tmpl is parsed on first use, not at package initialisation: every genquorum command links
// this package, and only the explorer renders pages.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{"short": short}).Parse(pageTemplate))
})
