package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/genquorum/genquorum/engine/llm"
	"github.com/genquorum/genquorum/tensor"
)

// Defaults of Config's limits.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxTokens    = 4096
	DefaultMaxChoices   = 8
	DefaultMaxProbs     = 20
	DefaultSlots        = 1
)

// Config configures a Server. Zero limits take the defaults above.
type Config struct {
	// LLMs are the text models served, by their names (llm.Engine's model name); the first is
	// the default when a request names none. At least one is required.
	LLMs []*llm.Engine
	// Profile is the numeric profile of every generation; the zero Profile means tensor.Exact.
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
	// Now is the clock of "created" fields; nil means time.Now.
	Now func() time.Time
}

// Server serves the engines of a Config over HTTP; it is safe for concurrent use.
type Server struct {
	cfg     Config
	models  map[string]*llm.Model
	order   []string          // model names in Config order
	slots   chan int          // free slot ids
	methods map[string]string // path -> method of every route
	log     *slog.Logger
	started time.Time
	handler http.Handler
}

// New checks cfg, fills in its defaults and returns a Server.
func New(cfg Config) (*Server, error) {
	if len(cfg.LLMs) == 0 {
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
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxProbs > llm.MaxTopN {
		return nil, fmt.Errorf("server: MaxProbs %d above llm.MaxTopN %d", cfg.MaxProbs, llm.MaxTopN)
	}
	s := &Server{cfg: cfg, models: make(map[string]*llm.Model), slots: make(chan int, cfg.Slots), methods: make(map[string]string),
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
	mux := http.NewServeMux()
	s.registerLLM(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if method, ok := s.methods[r.URL.Path]; ok {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method))
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	s.handler = s.logged(mux)
	return s, nil
}

// handle registers h for method and path; other methods on path get a JSON 405.
func (s *Server) handle(mux *http.ServeMux, method, path string, h http.HandlerFunc) {
	mux.HandleFunc(method+" "+path, h)
	s.methods[path] = method
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

// readBody reads the request body; on failure it writes the error response and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mbe.Limit))
		} else {
			writeError(w, http.StatusBadRequest, "cannot read the request body: "+err.Error())
		}
		return nil, false
	}
	return b, true
}

// acquire takes a generation slot, or writes 503 and returns false.
func (s *Server) acquire(w http.ResponseWriter) (int, bool) {
	select {
	case id := <-s.slots:
		return id, true
	default:
		writeError(w, http.StatusServiceUnavailable, "all generation slots are busy, retry later")
		return 0, false
	}
}

func (s *Server) release(id int) { s.slots <- id }

// model returns the named model (the first when name is ""), or writes 404 and returns nil.
func (s *Server) model(w http.ResponseWriter, name string) *llm.Model {
	if name == "" {
		return s.models[s.order[0]]
	}
	if m, ok := s.models[name]; ok {
		return m
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found (serving %v)", name, s.order))
	return nil
}

// newID returns a random completion id, "cmpl-" and 32 hex digits.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return "cmpl-" + hex.EncodeToString(b[:])
}
