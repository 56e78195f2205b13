package explorer

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genquorum/genquorum/chain"
	"github.com/genquorum/genquorum/devnet"
	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/enginetest"
	"github.com/genquorum/genquorum/fingerprint"
	"github.com/genquorum/genquorum/ledger"
	"github.com/genquorum/genquorum/node"
	"github.com/genquorum/genquorum/quorum"
)

// hostile is a prompt that would inject an element if it were not escaped.
const hostile = `<b id="injected">x</b><script>document.title="pwned"</script> once upon a time`

// settledNetwork starts a one-node network, settles a text task with a hostile prompt, and
// returns an explorer following it, served over HTTP, with the task's ID and fetched text.
func settledNetwork(t *testing.T) (url string, id ledger.TaskID, text string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a CometBFT validator")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	t.Cleanup(cancel)
	model := engine.ModelRef{Name: "fake-a", Digest: engine.Digest{0xa}}
	var reg engine.Registry
	if err := reg.Register(enginetest.NewFake(model)); err != nil {
		t.Fatal(err)
	}
	nw, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), Nodes: []devnet.NodeSpec{{}}, Engines: &reg,
		EmptyBlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Stop() })
	id, err = nw.Clients[0].Submit(ctx, node.Request{
		Task: engine.Task{Kind: engine.KindText, Model: model, Prompt: hostile, Seed: 3,
			Text: &engine.TextParams{Decode: "greedy", MaxTokens: 8}},
		Scheme: fingerprint.TokenScheme, Replicas: 1, Rule: quorum.Majority, Fee: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	if tv, err := nw.Clients[0].Wait(ctx, id); err != nil || tv.Status != "accepted" {
		t.Fatalf("task: %+v %v", tv, err)
	}
	f, err := node.Fetch(ctx, nw.Chain, nw.ClientHost, id, node.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := New(nw.Chain, nw.ClientHost, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- x.Serve(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for { // wait until the explorer has followed the task's assignment
		x.mu.Lock()
		ok := slices.Contains(x.tasks, id)
		x.mu.Unlock()
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("explorer never saw the task")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "http://" + ln.Addr().String() + "/", id, string(f.Data)
}

// TestExplorerInChromium loads the page in headless Chromium (Debian's chromium; skipped
// with a message when it is not installed) after a one-validator network settled a task, and
// checks the DOM: the task is listed as accepted with its verdict, its executor agreed, the
// odds are shown, the text artifact was fetched from the agreeing node and shown, the hostile
// prompt is shown as text (no injected element, no script run), and the node is listed.
func TestExplorerInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed (apt-get install -y chromium): explorer browser test skipped")
	}
	url, id, text := settledNetwork(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=8000", "--dump-dom", url).Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	dom := string(out)
	row := between(dom, `data-task="`+id.String()+`"`, "</tr>\n")
	if row == "" {
		t.Fatalf("task %s not on the page:\n%s", id.String()[:12], dom)
	}
	for _, want := range []string{
		`class="status accepted"`,
		`class="outcome">agreed<`,
		html.EscapeString(text), // the artifact, fetched by the page's script and shown as text
		`&lt;b id="injected"&gt;x&lt;/b&gt;&lt;script&gt;`,
	} {
		if !strings.Contains(row, want) {
			t.Errorf("task row lacks %q:\n%s", want, row)
		}
	}
	if strings.Contains(row, "loading…") {
		t.Errorf("artifact never loaded:\n%s", row)
	}
	if strings.Contains(dom, `<b id="injected">`) || strings.Contains(dom, "<title>pwned</title>") {
		t.Errorf("the prompt was injected into the page")
	}
	if !strings.Contains(row, `class="verdict"><code>`) || strings.Contains(between(row, `class="odds">`, "</td>"), "-") {
		t.Errorf("verdict or odds missing:\n%s", row)
	}
	if !strings.Contains(dom, `class="node"`) || !strings.Contains(dom, `class="jailed">no<`) {
		t.Errorf("node not listed")
	}
}

// TestExplorerPlainHTTP checks the server side without a browser: the page and the live
// content are HTML with the escaped prompt, and the artifact endpoint serves the text.
func TestExplorerPlainHTTP(t *testing.T) {
	url, id, text := settledNetwork(t)
	for _, path := range []string{"", "content"} {
		body := get(t, url+path)
		if !strings.Contains(body, id.String()) || !strings.Contains(body, `class="status accepted"`) ||
			!strings.Contains(body, "&lt;b id=&#34;injected&#34;&gt;") || strings.Contains(body, `<b id="injected">`) {
			t.Errorf("/%s: task missing or prompt not escaped:\n%s", path, body)
		}
	}
	if got := get(t, url+"artifact/"+id.String()); got != text {
		t.Errorf("artifact %q, want %q", got, text)
	}
	resp, err := http.Get(url + "artifact/zz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad id: status %d", resp.StatusCode)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b)
}

// between returns s from the first from to the next to after it, or "".
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j]
}

// TestPolicyOdds: a task settled under a verification policy shows the odds computed from the
// policy's measured rates (n 3, majority: a correct verdict 1 at Type I = 1, 0.999988 at its
// 95 % lower bound; a guess passes with at most the Type II upper bound, 2e-05), and the page
// names the policy; a task without a policy keeps the agreement-rate odds.
func TestPolicyOdds(t *testing.T) {
	pv := chain.PolicyView{Model: "base", Kind: "image", Parts: []ledger.PolicyPart{{Scheme: "image:phash/16", Tolerance: 10}},
		TypeIPPM: 1_000_000, TypeIPairs: 1500, TypeIIUpper: 20, TypeIIPairs: 149_500}
	exec := []chain.ExecutorView{{Node: "aa", Outcome: "agreed"}, {Node: "bb", Outcome: "agreed"}, {Node: "cc", Outcome: "agreed"}}
	with := TaskRow{TaskView: chain.TaskView{ID: "01", Kind: "image", Rule: "majority", Need: 2, Value: "ab", Executors: exec, Policy: &pv}}
	without := TaskRow{TaskView: chain.TaskView{ID: "02", Kind: "image", Rule: "majority", Need: 2, Value: "ab", Executors: exec}}
	policyOdds(&with)
	policyOdds(&without)
	if with.Odds != "1.000000 (>= 0.999988 at 95%)" || with.Guess != "2e-05" || !strings.Contains(with.PolicyNote, "image:phash/16 t=10") {
		t.Errorf("under the policy: odds %q, guess %q, note %q", with.Odds, with.Guess, with.PolicyNote)
	}
	if without.Odds != "" || without.Guess != "" {
		t.Errorf("without a policy: odds %q, guess %q", without.Odds, without.Guess)
	}
	var b strings.Builder
	if err := tmpl().ExecuteTemplate(&b, "content", Page{Tasks: []TaskRow{with}}); err != nil {
		t.Fatal(err)
	}
	if cell := between(b.String(), `class="odds">`, "</td>"); !strings.Contains(cell, "a guess passes &le; 2e-05") ||
		!strings.Contains(cell, "Type I 1000000 ppm") {
		t.Errorf("odds cell %q", cell)
	}
}

// TestCheckNote covers every spot phase and escalation as the page words them.
func TestCheckNote(t *testing.T) {
	for _, c := range []struct {
		name string
		tv   chain.TaskView
		want string
	}{
		{"plain", chain.TaskView{}, ""},
		{"waiting", chain.TaskView{SpotPPM: 50000}, "spot check q = 5 %: executor not committed yet"},
		{"draw scheduled", chain.TaskView{SpotPPM: 125, Spot: &ledger.SpotState{DrawAt: 42}}, "spot check q = 0.0125 %: drawn at height 42"},
		{"verified", chain.TaskView{SpotPPM: 1000000, Spot: &ledger.SpotState{Phase: ledger.SpotVerified, DrawAt: 9}}, "spot check q = 100 %: drawn, verifiers assigned"},
		{"unverified", chain.TaskView{SpotPPM: 300000, Spot: &ledger.SpotState{Phase: ledger.SpotUnverified, DrawAt: 9}}, "spot check q = 30 %: not drawn, unverified"},
		{"no verifiers", chain.TaskView{SpotPPM: 300000, Spot: &ledger.SpotState{Phase: ledger.SpotUnverified, Note: ledger.ReasonSpotNoVerifiers}},
			"spot check q = 30 %: drawn, but too few free verifiers: unverified"},
		{"escalated", chain.TaskView{Spot: &ledger.SpotState{Escalated: true}}, "escalated: extra verifiers drawn"},
		{"escalation skipped", chain.TaskView{Spot: &ledger.SpotState{Note: ledger.ReasonEscalationSkipped}}, ledger.ReasonEscalationSkipped},
	} {
		if got := checkNote(&c.tv); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
