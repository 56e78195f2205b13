package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genquorum/genquorum/engine/llm"
)

// chunk is what one generated token releases, as llama-server's process_token: the text to
// send (empty while it may be the start of a stop string) and the token's probability entry.
// A token after which the text ends in an incomplete UTF-8 sequence releases no chunk; its
// bytes go out with the token that completes the character.
type chunk struct {
	text  string
	entry stepProbs
	id    int32
	n     int // tokens generated so far
}

// textGen follows one generation token by token with llama-server b4748's text rules: the
// text is the tokens' pieces (control tokens as nothing); a token whose text ends in an
// incomplete UTF-8 sequence is held (no probability entry, as llama-server's validate_utf8);
// stop strings are searched in the unsent tail (find_stopping_strings, full then partial), a
// full match cuts the text before it and ends the generation, a partial match at the end
// holds the text back until it is resolved.
type textGen struct {
	m       *llm.Model
	stops   []string
	topN    int               // alternatives of each entry
	onChunk func(chunk) error // nil unless streaming

	text     []byte
	sent     int
	n        int
	entries  []stepProbs
	stopWord string
	err      error // from onChunk
}

// step takes the next generated token; false ends the generation.
func (g *textGen) step(st llm.Step) bool {
	piece, _ := g.m.Tok.TokenToPiece(st.ID, false)
	g.text = append(g.text, piece...)
	g.n++
	if validUTF8Len(g.text) < len(g.text) {
		return true
	}
	pos := min(g.sent, len(g.text))
	test := string(g.text[pos:])
	send := true
	if at := g.findStop(test, len(piece), true); at >= 0 {
		g.text = g.text[:pos+at]
		pos = min(g.sent, len(g.text))
	} else if g.findStop(test, len(piece), false) >= 0 {
		send = false
	}
	var out []byte
	if send {
		out = g.text[pos:]
		g.sent += len(out)
	}
	e := g.entry(st, out)
	g.entries = append(g.entries, e)
	if g.onChunk != nil {
		if g.err = g.onChunk(chunk{text: string(out), entry: e, id: st.ID, n: g.n}); g.err != nil {
			return false
		}
	}
	return g.stopWord == ""
}

// findStop is llama-server's find_stopping_strings: with full, the earliest complete stop
// string in the last len(stop)+lastToken bytes of text (recording it as the stopping word);
// otherwise the earliest position where text ends with a proper start of a stop string.
func (g *textGen) findStop(text string, lastToken int, full bool) int {
	at := -1
	for _, w := range g.stops {
		if w == "" {
			continue // never matched (request decoding drops them too)
		}
		var p int
		if full {
			from := max(len(text)-(len(w)+lastToken), 0)
			if p = strings.Index(text[from:], w); p >= 0 {
				p += from
			}
		} else {
			p = partialStop(w, text)
		}
		if p >= 0 && (at < 0 || p < at) {
			if full {
				g.stopWord = w
			}
			at = p
		}
	}
	return at
}

// partialStop is llama-server's find_partial_stop_string: the position where text ends with
// a prefix of stop ending in text's last byte, or -1.
func partialStop(stop, text string) int {
	if stop == "" || text == "" {
		return -1
	}
	last := text[len(text)-1]
	for i := len(stop) - 1; i >= 0; i-- {
		if stop[i] == last && strings.HasSuffix(text, stop[:i+1]) {
			return len(text) - i - 1
		}
	}
	return -1
}

// validUTF8Len is llama-server's validate_utf8: len(b), less the bytes of a multi-byte
// sequence that b's end leaves incomplete.
func validUTF8Len(b []byte) int {
	n := len(b)
	for i := 1; i <= 4 && i <= n; i++ {
		c := b[n-i]
		switch {
		case c&0xE0 == 0xC0 && i < 2, c&0xF0 == 0xE0 && i < 3, c&0xF8 == 0xF0 && i < 4:
			return n - i
		}
	}
	return n
}

// entry is llama-server's probability entry of a token: token is the text sent with it cut
// to valid UTF-8, bytes all of that text; the alternatives are the tokens' own pieces.
func (g *textGen) entry(st llm.Step, sent []byte) stepProbs {
	e := stepProbs{tokenProb: tokenProb{ID: st.ID, Token: string(sent[:validUTF8Len(sent)]), Bytes: byteInts(sent),
		Logprob: float64(st.LogProb)}, TopLogprobs: []tokenProb{}}
	for _, t := range st.Top[:min(g.topN, len(st.Top))] {
		e.TopLogprobs = append(e.TopLogprobs, newTokenProb(g.m, t.ID, t.LogProb))
	}
	return e
}

func byteInts(b []byte) []int {
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
	}
	return out
}

// genSpec is one generation a handler asks for.
type genSpec struct {
	prompt  []int32
	params  llm.Params // OnStep is set by run
	stops   []string
	topN    int               // alternatives per probability entry
	onChunk func(chunk) error // streaming, or nil
}

// genResult is a finished generation.
type genResult struct {
	tokens   []int32
	text     string      // the content: stop string and what follows cut
	unsent   string      // streaming: text held back and never released (flushed by the final event)
	entries  []stepProbs // aligned probability entries; without streaming, those of the stop string dropped
	stopType string      // "eos", "limit" or "word"
	stopWord string
	promptMS float64 // from the start to the first token (the prompt's evaluation and the first token)
	genMS    float64 // from the first token to the end
}

// run generates spec on m under the server's profile.
func (s *Server) run(ctx context.Context, m *llm.Model, spec genSpec) (genResult, error) {
	r := genResult{stopType: "limit", tokens: []int32{}, entries: []stepProbs{}}
	if spec.params.MaxTokens == 0 {
		return r, nil
	}
	g := &textGen{m: m, stops: spec.stops, topN: spec.topN, onChunk: spec.onChunk}
	start := time.Now()
	var first time.Time
	p := spec.params
	p.OnStep = func(i int, st llm.Step) bool {
		if i == 0 {
			first = time.Now()
		}
		return g.step(st)
	}
	res, err := m.Generate(ctx, spec.prompt, p, s.cfg.Profile)
	if g.err != nil {
		return r, g.err
	}
	if err != nil {
		return r, err
	}
	end := time.Now()
	if first.IsZero() {
		first = end
	}
	r.promptMS, r.genMS = ms(first.Sub(start)), ms(end.Sub(first))
	r.tokens, r.text, r.entries, r.stopWord = res.Tokens, string(g.text), g.entries, g.stopWord
	if g.sent < len(g.text) {
		r.unsent = string(g.text[g.sent:])
	}
	switch {
	case g.stopWord != "":
		r.stopType = "word"
		if spec.onChunk == nil {
			// As llama-server: the entries of the stop string's tokens (as many as the stop
			// string has tokens when tokenized alone) are dropped.
			drop := min(len(r.entries), len(m.Tok.Encode(g.stopWord, false, false)))
			r.entries = r.entries[:len(r.entries)-drop]
		}
	default:
		r.stopType = stopType(m.Tok.IsEOG, res.Tokens, p)
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// finishReason is OpenAI's finish_reason of a stop type.
func finishReason(stopType string) string {
	if stopType == "limit" {
		return "length"
	}
	return "stop"
}

// sse writes a response as server-sent events, "data: <JSON>\n\n" each, flushed at once; the
// headers go out with the first event.
type sse struct {
	w       http.ResponseWriter
	started bool
}

func (e *sse) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("server: encode event: %w", err)
	}
	return e.raw(b)
}

func (e *sse) raw(b []byte) error {
	if !e.started {
		h := e.w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		e.w.WriteHeader(http.StatusOK)
		e.started = true
	}
	var buf bytes.Buffer
	buf.WriteString("data: ")
	buf.Write(b)
	buf.WriteString("\n\n")
	if _, err := e.w.Write(buf.Bytes()); err != nil {
		return err
	}
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// done ends an OpenAI stream.
func (e *sse) done() error { return e.raw([]byte("[DONE]")) }

// fail ends a stream with an error event when events were sent (the status is already
// 200), or returns err for the ordinary error response.
func (e *sse) fail(err error) error {
	if !e.started {
		return err
	}
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Type = http.StatusInternalServerError, err.Error(), "server_error"
	e.send(b)
	return nil
}

// Chat templates. The server follows llama-server b4748 without --jinja: the GGUF's
// tokenizer.chat_template is recognised by the markers llama.cpp's llm_chat_detect_template
// looks for and applied as llama.cpp's llm_chat_apply_template applies it; a model without a
// template gets ChatML. This package implements the ChatML, Llama 3, Gemma, Phi-3 and Zephyr
// formats; a model whose template is another one is refused with 400 on chat requests.

// chatmlJinja is the ChatML template llama-server reports in /props for a model without one.
const chatmlJinja = "{%- for message in messages -%}\n  {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n  {{- '<|im_start|>assistant\n' -}}\n{%- endif -%}"

// chatFormat returns the format of a model's chat template: "chatml" for none, "" for one
// this package does not implement.
func chatFormat(tmpl string) string {
	has := func(s string) bool { return strings.Contains(tmpl, s) }
	switch {
	case tmpl == "" || tmpl == "chatml":
		return "chatml"
	case has("<|im_start|>"):
		if has("<|im_sep|>") {
			return "" // phi4
		}
		return "chatml"
	case strings.HasPrefix(tmpl, "mistral") || has("[INST]"):
		return "" // llama2 / mistral variants
	case has("<|assistant|>") && has("<|end|>"):
		return "phi3"
	case has("<|user|>") && has("<|endoftext|>"):
		return "zephyr"
	case has("<start_of_turn>"):
		return "gemma"
	case has("<|start_header_id|>") && has("<|end_header_id|>"):
		return "llama3"
	}
	return ""
}

// applyChat formats messages in format and appends the assistant's opening.
func applyChat(format string, msgs []chatMessage) string {
	var b strings.Builder
	switch format {
	case "chatml":
		for _, m := range msgs {
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		}
		b.WriteString("<|im_start|>assistant\n")
	case "phi3":
		for _, m := range msgs {
			b.WriteString("<|" + m.Role + "|>\n" + m.Content + "<|end|>\n")
		}
		b.WriteString("<|assistant|>\n")
	case "zephyr":
		for _, m := range msgs {
			b.WriteString("<|" + m.Role + "|>\n" + m.Content + "<|endoftext|>\n")
		}
		b.WriteString("<|assistant|>\n")
	case "gemma":
		system := ""
		for _, m := range msgs {
			role := m.Role
			if role == "assistant" {
				role = "model"
			}
			if role == "system" {
				system = trimSpace(m.Content)
				continue
			}
			b.WriteString("<start_of_turn>" + role + "\n")
			if system != "" && role != "model" {
				b.WriteString(system + "\n\n")
				system = ""
			}
			b.WriteString(trimSpace(m.Content) + "<end_of_turn>\n")
		}
		b.WriteString("<start_of_turn>model\n")
	case "llama3":
		for _, m := range msgs {
			b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + trimSpace(m.Content) + "<|eot_id|>")
		}
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
	return b.String()
}

// trimSpace trims C's isspace characters, as llama.cpp's trim.
func trimSpace(s string) string { return strings.Trim(s, " \t\n\v\f\r") }

// validPrefix is s cut to valid UTF-8 at its end.
func validPrefix(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return s[:validUTF8Len([]byte(s))]
}
