package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/tensor"
)

// statusClientClosed is logged when the client went away before the response (nginx's 499).
const statusClientClosed = 499

// Defaults of Config's limits.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxTokens    = 4096
	DefaultMaxChoices   = 8
	DefaultMaxProbs     = 20
	DefaultSlots        = 1

	DefaultMaxImageSize  = 1024 // width and height
	DefaultMaxImages     = 8    // batch_size × n_iter
	DefaultMaxImageSteps = 150
)

// Config configures a Server. Zero limits take the defaults above.
type Config struct {
	// LLMs are the text models served, by their names (llm.Engine's model name); the first is
	// the default when a request names none. At least one of LLMs and Image is required.
	LLMs []*llm.Engine
	// Image is the image engine served under /sdapi/v1/; its first model is the default when a
	// request names none.
	Image *diffusion.Engine
	// Profile is the numeric profile of every generation; the zero Profile means tensor.Exact.
	// With Image set it must be one of package tensor's presets (the image engine takes
	// profiles by name).
	Profile tensor.Profile
	// Logger receives one record per request; nil discards.
	Logger *slog.Logger
	// Slots is the number of generations that may run at once; more are refused with 503.
	Slots int
	// MaxBodyBytes bounds a request body (413 above it).
	MaxBodyBytes int64
	// MaxTokens bounds n_predict / max_tokens, and is the budget of a request that sets none
	// (-1) when the context leaves more room.
	MaxTokens int
	// MaxChoices bounds the number of generations of one /v1/completions request (n × prompts).
	MaxChoices int
	// MaxProbs bounds n_probs / logprobs (at most llm.MaxTopN).
	MaxProbs int
	// MaxImageSize bounds a txt2img request's width and height.
	MaxImageSize int
	// MaxImages bounds the images of one txt2img request (batch_size × n_iter).
	MaxImages int
	// MaxImageSteps bounds a txt2img request's steps (and the engine's own limit applies).
	MaxImageSteps int
	// Now is the clock of "created" fields; nil means time.Now.
	Now func() time.Time
}

// Server serves the engines of a Config over HTTP; it is safe for concurrent use.
type Server struct {
	cfg     Config
	models  map[string]*llm.Model
	order   []string         // model names in Config order
	images  []imageModel     // Config.Image's models, in its order
	slots   chan int         // free slot ids
	routes  map[string]route // path -> its method and error shape
	log     *slog.Logger
	started time.Time
	handler http.Handler
}

// Serve serves s on ln until ctx ends, then stops taking requests and gives running ones up
// to shutdownTimeout; after that it closes their connections, which cancels their generations
// between tokens. It returns nil after that stop, or the error that ended serving earlier
// (from http.Server.Serve, unwrapped).
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("shutdown deadline passed, closing connections", "err", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// New checks cfg, fills in its defaults and returns a Server.
func New(cfg Config) (*Server, error) {
	if len(cfg.LLMs) == 0 && cfg.Image == nil {
		return nil, errors.New("server: no model to serve")
	}
	if cfg.Profile.Name == "" {
		cfg.Profile = tensor.Exact
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Slots, DefaultSlots)
	def(&cfg.MaxTokens, DefaultMaxTokens)
	def(&cfg.MaxChoices, DefaultMaxChoices)
	def(&cfg.MaxProbs, DefaultMaxProbs)
	def(&cfg.MaxImageSize, DefaultMaxImageSize)
	def(&cfg.MaxImages, DefaultMaxImages)
	def(&cfg.MaxImageSteps, DefaultMaxImageSteps)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxProbs > llm.MaxTopN {
		return nil, fmt.Errorf("server: MaxProbs %d above llm.MaxTopN %d", cfg.MaxProbs, llm.MaxTopN)
	}
	if cfg.Image != nil {
		if p, err := tensor.ProfileByName(cfg.Profile.Name); err != nil || p != cfg.Profile {
			return nil, fmt.Errorf("server: the image engine needs a preset profile, not %q", cfg.Profile.Name)
		}
	}
	s := &Server{cfg: cfg, models: make(map[string]*llm.Model), slots: make(chan int, cfg.Slots), routes: make(map[string]route),
		log: cfg.Logger, started: cfg.Now()}
	for _, e := range cfg.LLMs {
		m := e.Model()
		if _, dup := s.models[m.Name]; dup {
			return nil, fmt.Errorf("server: two models named %q", m.Name)
		}
		s.models[m.Name] = m
		s.order = append(s.order, m.Name)
	}
	for i := range cfg.Slots {
		s.slots <- i
	}
	if cfg.Image != nil {
		if err := s.loadImageModels(); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	s.handle(mux, "GET", "/health", writeError, s.handleHealth)
	if len(cfg.LLMs) > 0 {
		s.registerLLM(mux)
	}
	if cfg.Image != nil {
		s.registerImage(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rt, ok := s.routes[r.URL.Path]
		if ok {
			w.Header().Set("Allow", rt.method)
			rt.shape(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, rt.method))
			return
		}
		shape := writeError
		if strings.HasPrefix(r.URL.Path, sdapiPrefix) {
			shape = writeA1111Error
		}
		shape(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	s.handler = s.logged(mux)
	return s, nil
}

// errorShape writes an error response in one API's JSON shape.
type errorShape func(w http.ResponseWriter, code int, msg string)

// route is what the catch-all handler knows of a registered path.
type route struct {
	method string
	shape  errorShape
}

// handle registers h for method and path; other methods on path get a JSON 405 in shape.
func (s *Server) handle(mux *http.ServeMux, method, path string, shape errorShape, h http.HandlerFunc) {
	mux.HandleFunc(method+" "+path, h)
	s.routes[path] = route{method: method, shape: shape}
}

// slotUse says whether an endpoint's work takes a generation slot.
type slotUse bool

const (
	takesSlot slotUse = true
	noSlot    slotUse = false
)

// postJSON returns the handler of a POST endpoint with a JSON body, the one path every such
// endpoint takes: read the body (413 above Config.MaxBodyBytes), decode and check it with
// decode (which resolves models and applies the server's limits, so that bad requests fail
// before any slot is taken), take a generation slot when slot is takesSlot (503 when none is
// free; released when run returns), and call run with the request's context, the slot id
// (-1 without one) and the response writer. run's result is written as JSON with status 200,
// any error by respondError in shape; a run that wrote the response itself (a stream)
// returns nil, nil.
func postJSON[T any](s *Server, shape errorShape, decode func(body []byte) (T, error), slot slotUse,
	run func(ctx context.Context, req T, slot int, w http.ResponseWriter) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resp, err := func() (any, error) {
			body, err := readBody(r)
			if err != nil {
				return nil, err
			}
			req, err := decode(body)
			if err != nil {
				return nil, err
			}
			id := -1
			if slot == takesSlot {
				if id, err = s.acquire(); err != nil {
					return nil, err
				}
				defer s.release(id)
			}
			return run(r.Context(), req, id, w)
		}()
		if err != nil {
			s.respondError(w, r, shape, err)
			return
		}
		if resp != nil {
			writeJSON(w, http.StatusOK, resp)
		}
	}
}

// plain adapts a run function that only returns its response to postJSON.
func plain[T any](run func(ctx context.Context, req T, slot int) (any, error)) func(context.Context, T, int, http.ResponseWriter) (any, error) {
	return func(ctx context.Context, req T, slot int, _ http.ResponseWriter) (any, error) {
		return run(ctx, req, slot)
	}
}

// handleHealth answers llama-server's GET /health, whatever the engines.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// statusWriter records the status and size of a response for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// logged wraps h with the request log and the body size limit.
func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBodyBytes)
		h.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start), "remote", r.RemoteAddr)
	})
}

// errorTypes are llama-server's error types by status code.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "invalid_request_error",
	http.StatusNotFound:              "not_found_error",
	http.StatusMethodNotAllowed:      "invalid_request_error",
	http.StatusRequestEntityTooLarge: "invalid_request_error",
	http.StatusServiceUnavailable:    "unavailable_error",
	http.StatusNotImplemented:        "not_supported_error",
}

// errorBody is llama-server's (and OpenAI-compatible) error response.
type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Type = code, msg, errorTypes[code]
	if b.Error.Type == "" {
		b.Error.Type = "server_error"
	}
	writeJSON(w, code, b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // llama-server writes <s> as it is
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":500,"message":"server: cannot encode the response","type":"server_error"}}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// httpError is an error with its response status.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// respondError writes err in shape: its own status for an httpError, 400 for bad requests and
// bad parameters, 499 (logged only) when the client went away, 500 otherwise.
func (s *Server) respondError(w http.ResponseWriter, r *http.Request, shape errorShape, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		shape(w, he.code, he.msg)
	case errors.Is(err, errBadRequest), errors.Is(err, llm.ErrParams), errors.Is(err, llm.ErrContext),
		errors.Is(err, llm.ErrToken), errors.Is(err, diffusion.ErrParams), errors.Is(err, engine.ErrInvalidTask):
		shape(w, http.StatusBadRequest, err.Error())
	case r.Context().Err() != nil:
		shape(w, statusClientClosed, "client closed the request")
	default:
		s.log.Error("generation failed", "path", r.URL.Path, "err", err)
		shape(w, http.StatusInternalServerError, err.Error())
	}
}

// readBody reads the request body: an httpError 413 above the body limit.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, fail(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit)
		}
		return nil, fail(http.StatusBadRequest, "cannot read the request body: %v", err)
	}
	return b, nil
}

// acquire takes a generation slot, or returns an httpError 503.
func (s *Server) acquire() (int, error) {
	select {
	case id := <-s.slots:
		return id, nil
	default:
		return 0, fail(http.StatusServiceUnavailable, "all generation slots are busy, retry later")
	}
}

func (s *Server) release(id int) { s.slots <- id }

// model returns the named text model (the first when name is ""), or an httpError 404. With
// one model any name gives it, as llama-server (which answers to any model name): OpenAI
// clients must send one, and it names a hosted model more often than a file.
func (s *Server) model(name string) (*llm.Model, error) {
	if name == "" || len(s.order) == 1 {
		return s.models[s.order[0]], nil
	}
	if m, ok := s.models[name]; ok {
		return m, nil
	}
	return nil, fail(http.StatusNotFound, "model %q not found (serving %v)", name, s.order)
}

// newID returns a random completion id, "cmpl-" and 32 hex digits.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return "cmpl-" + hex.EncodeToString(b[:])
}
