package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Errors callers can branch on. Every error of this package wraps at most one of them.
var (
	// ErrUnreachable: the server could not be reached (after the retries), or kept answering
	// 429 / 5xx.
	ErrUnreachable = errors.New("remote: engine unreachable")
	// ErrWrongModel: the server does not have the declared model loaded.
	ErrWrongModel = errors.New("remote: wrong model loaded")
	// ErrNondeterministic: the engine answered the same task with different outputs, or runs
	// with a setting that makes it non-reproducible.
	ErrNondeterministic = errors.New("remote: engine is not deterministic")
	// ErrBadResponse: the server's answer is malformed, incomplete or over the size limit.
	ErrBadResponse = errors.New("remote: bad response")
)

// StatusError is an HTTP error answer: its status and the start of its body.
type StatusError struct {
	Method, URL string
	Code        int
	Body        string // at most 512 bytes
}

// Error names the request, the HTTP status and the start of the response body.
func (e *StatusError) Error() string {
	return fmt.Sprintf("remote: %s %s: HTTP %d: %s", e.Method, e.URL, e.Code, e.Body)
}

// maxBackoff bounds the wait between attempts.
const maxBackoff = 5 * time.Second

// client makes the HTTP requests of one engine: each under the spec's timeout, with retries
// and back-off, and bodies under the size limit.
type client struct {
	sp   Spec
	http *http.Client
}

func newClient(sp Spec) *client {
	return &client{sp: sp, http: &http.Client{Transport: http.DefaultTransport}}
}

// retryable reports whether a failed attempt is worth repeating.
func retryable(err error, code int) bool {
	if err != nil {
		return true // connection refused, reset, timeout of this attempt
	}
	return code == http.StatusTooManyRequests || code >= 500
}

// do sends method path with the JSON encoding of in (nil for none) and returns the response
// body of a 2xx answer. It retries unreachable servers, 429 and 5xx with back-off, and stops
// at once when ctx ends (the request in flight is cancelled with it).
func (c *client) do(ctx context.Context, method, path string, in any) ([]byte, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("remote: encode request: %w", err)
		}
	}
	url := c.sp.URL + path
	wait := c.sp.Backoff
	var last error
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, code, err := c.once(ctx, method, url, body)
		if err == nil && code >= 200 && code < 300 {
			return b, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrBadResponse) {
			return nil, err
		}
		if err != nil {
			last = fmt.Errorf("%w: %s %s: %w", ErrUnreachable, method, url, err)
		} else {
			last = &StatusError{Method: method, URL: url, Code: code, Body: string(b[:min(len(b), 512)])}
		}
		if !retryable(err, code) || attempt >= c.sp.Retries {
			if err == nil && retryable(nil, code) {
				return nil, fmt.Errorf("%w after %d attempts: %w", ErrUnreachable, attempt+1, last)
			}
			return nil, last
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

// once makes one attempt under the spec's timeout.
func (c *client) once(ctx context.Context, method, url string, body []byte) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.sp.Timeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.sp.MaxBytes+1))
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if int64(len(b)) > c.sp.MaxBytes {
		return nil, resp.StatusCode, fmt.Errorf("%w: %s %s: body over the limit of %d bytes", ErrBadResponse, method, url, c.sp.MaxBytes)
	}
	return b, resp.StatusCode, nil
}

// getJSON decodes the JSON answer of GET path into out.
func (c *client) getJSON(ctx context.Context, path string, out any) error {
	b, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return decodeJSON(b, path, out)
}

// postJSON decodes the JSON answer of POST path into out.
func (c *client) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := c.do(ctx, http.MethodPost, path, in)
	if err != nil {
		return err
	}
	return decodeJSON(b, path, out)
}

func decodeJSON(b []byte, what string, out any) error {
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadResponse, what, err)
	}
	return nil
}

// isStatus reports whether err is a StatusError with one of codes.
func isStatus(err error, codes ...int) bool {
	var se *StatusError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code == c {
			return true
		}
	}
	return false
}
