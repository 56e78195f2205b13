package remote

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/genquorum/genquorum/engine"
)

// The kinds of remote engine.
const (
	KindLlamaCpp = "llamacpp" // llama-server's native /completion
	KindOpenAI   = "openai"   // OpenAI-compatible /v1/completions (vLLM, SGLang, llama-server, Ollama's /v1)
	KindOllama   = "ollama"   // Ollama's native /api/generate
	KindA1111    = "a1111"    // AUTOMATIC1111 / Forge / stable-diffusion.cpp /sdapi/v1/txt2img
	KindComfyUI  = "comfyui"  // ComfyUI's /prompt, /history, /view
	KindExec     = "exec"     // any command line
)

// Kinds lists the kinds of remote engine, in the order the documentation gives them.
var Kinds = []string{KindLlamaCpp, KindOpenAI, KindOllama, KindA1111, KindComfyUI, KindExec}

// Defaults of a Spec's common options.
const (
	DefaultTimeout  = 10 * time.Minute // one request (or one exec run)
	DefaultRetries  = 3                // extra attempts after a failure worth retrying
	DefaultBackoff  = 250 * time.Millisecond
	DefaultMaxBytes = 64 << 20 // one response body (or an exec program's stdout)
)

// Spec says which remote engine serves which model. Its text form, as the node's --engine
// flag takes it, is
//
//	NAME=KIND:URL[?option=value&...]
//
// NAME is the model's name in tasks and on the ledger; KIND one of Kinds; URL the server's
// base URL (http or https), or for exec the program's path. The options common to every kind:
//
//	digest=HEX     the model's content digest (64 hex digits), declared by the operator: the
//	               weights live on the remote server and cannot be hashed by genquorum
//	model=ID       the name the server knows the model by (default NAME)
//	timeout=DUR    limit of one request or one exec run (Go duration; default 10m)
//	retries=N      extra attempts after an unreachable server, 429 or 5xx (default 3)
//	backoff=DUR    first wait between attempts, doubled each time up to 5 s (default 250ms)
//	max_bytes=N    limit of one response body (default 64 MiB)
//
// and per kind (see the adapters' documentation in doc.go): llamacpp n_probs, sampler; openai
// ids, vocab, server, batch_invariant, n_probs, sampler, api, eog; ollama num_ctx; a1111 scheduler; comfyui workflow; exec
// arg (repeatable), kind, env (repeatable).
type Spec struct {
	Name     string        // model name in tasks
	Kind     string        // one of Kinds
	URL      string        // base URL without query, or the exec program
	Model    string        // the server's name for the model (default Name)
	Digest   engine.Digest // operator-declared content digest; zero when not given
	Timeout  time.Duration
	Retries  int
	Backoff  time.Duration
	MaxBytes int64
	Options  url.Values // the kind's own options (common ones removed)
}

// kindOptions are the options each kind accepts besides the common ones.
var kindOptions = map[string][]string{
	KindLlamaCpp: {"n_probs", "sampler"},
	KindOpenAI:   {"ids", "vocab", "server", "batch_invariant", "n_probs", "sampler", "api", "eog"},
	KindOllama:   {"num_ctx"},
	KindA1111:    {"scheduler"},
	KindComfyUI:  {"workflow"},
	KindExec:     {"arg", "kind", "env"},
}

// ParseSpec reads a spec in the form NAME=KIND:URL[?options] and checks it.
func ParseSpec(s string) (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("remote: engine %q: %s", s, fmt.Sprintf(format, args...))
	}
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return bad("want NAME=KIND:URL[?options]")
	}
	kind, target, ok := strings.Cut(rest, ":")
	if !ok || target == "" {
		return bad("want NAME=KIND:URL[?options] with KIND one of %s", strings.Join(Kinds, ", "))
	}
	if !slices.Contains(Kinds, kind) {
		return bad("unknown kind %q (want one of %s)", kind, strings.Join(Kinds, ", "))
	}
	if len(name) > engine.MaxNameBytes || strings.ContainsAny(name, " \t\n") {
		return bad("model name must be at most %d bytes without spaces", engine.MaxNameBytes)
	}
	base, query, _ := strings.Cut(target, "?")
	opts, err := url.ParseQuery(query)
	if err != nil {
		return bad("options: %v", err)
	}
	sp := Spec{Name: name, Kind: kind, URL: base, Model: name, Timeout: DefaultTimeout, Retries: DefaultRetries,
		Backoff: DefaultBackoff, MaxBytes: DefaultMaxBytes, Options: url.Values{}}
	if kind != KindExec {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("URL %q: want http://HOST:PORT or https://...", base)
		}
		sp.URL = strings.TrimRight(base, "/")
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range opts {
			if !yield(k) {
				return
			}
		}
	}) {
		vs := opts[k]
		v := vs[len(vs)-1]
		switch k {
		case "digest":
			if sp.Digest, err = engine.ParseDigest(v); err != nil {
				return bad("digest: %v", err)
			}
		case "model":
			if v == "" {
				return bad("empty model")
			}
			sp.Model = v
		case "timeout", "backoff":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return bad("%s %q: want a positive Go duration such as 30s", k, v)
			}
			if k == "timeout" {
				sp.Timeout = d
			} else {
				sp.Backoff = d
			}
		case "retries":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 20 {
				return bad("retries %q: want 0 to 20", v)
			}
			sp.Retries = n
		case "max_bytes":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return bad("max_bytes %q: want at least 1024", v)
			}
			sp.MaxBytes = n
		default:
			if !slices.Contains(kindOptions[kind], k) {
				return bad("unknown option %q for %s (common: digest, model, timeout, retries, backoff, max_bytes; %s: %s)",
					k, kind, kind, strings.Join(kindOptions[kind], ", "))
			}
			sp.Options[k] = vs
		}
	}
	return sp, nil
}

// String returns the spec in the form ParseSpec reads.
func (sp Spec) String() string {
	q := url.Values{}
	for k, v := range sp.Options {
		q[k] = v
	}
	if !sp.Digest.IsZero() {
		q.Set("digest", sp.Digest.String())
	}
	if sp.Model != sp.Name {
		q.Set("model", sp.Model)
	}
	if sp.Timeout != DefaultTimeout {
		q.Set("timeout", sp.Timeout.String())
	}
	if sp.Retries != DefaultRetries {
		q.Set("retries", strconv.Itoa(sp.Retries))
	}
	if sp.Backoff != DefaultBackoff {
		q.Set("backoff", sp.Backoff.String())
	}
	if sp.MaxBytes != DefaultMaxBytes {
		q.Set("max_bytes", strconv.FormatInt(sp.MaxBytes, 10))
	}
	s := sp.Name + "=" + sp.Kind + ":" + sp.URL
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// ModelRef is the model the spec serves: its name and declared digest.
func (sp Spec) ModelRef() engine.ModelRef { return engine.ModelRef{Name: sp.Name, Digest: sp.Digest} }

// intOption returns the integer option k, or def when absent.
func (sp Spec) intOption(k string, def, lo, hi int) (int, error) {
	v := sp.Options.Get(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("remote: %s: option %s=%q: want an integer in [%d, %d]", sp.Name, k, v, lo, hi)
	}
	return n, nil
}
