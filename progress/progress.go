// Package progress draws the progress bars of long commands (schollz/progressbar) on a
// terminal only: a bar redraws itself with carriage returns, which only a terminal shows as
// one line, so on a file or a pipe the bars write nothing (the output stays clean).
//
// Invariants: New, Callback, Factory and NewSteps write nothing to a writer that is not a
// terminal (Always is the one way to force a bar); a bar may be moved from several goroutines
// at once (progressbar locks each update), as study's and hashscan's workers do; redraws are
// throttled to one per Throttle (progressbar.OptionThrottle).
package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Throttle is the least time between two redraws.
const Throttle = 100 * time.Millisecond

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Writer is where bars for w go: w when it is a terminal, else io.Discard.
func Writer(w io.Writer) io.Writer {
	if IsTerminal(w) {
		return w
	}
	return io.Discard
}

// New returns a bar of total items labelled label, drawn on w when w is a terminal (else
// silent), with the count and rate shown and a newline when it completes.
func New(w io.Writer, total int, label string) *progressbar.ProgressBar {
	return Always(Writer(w), total, label)
}

// Always is New drawing on w whatever w is (a command's --progress always).
func Always(w io.Writer, total int, label string) *progressbar.ProgressBar {
	opts := []progressbar.Option{progressbar.OptionSetWriter(w), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionThrottle(Throttle), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) })}
	if label != "" {
		opts = append(opts, progressbar.OptionSetDescription(label))
	}
	return progressbar.NewOptions(total, opts...)
}

// Callback returns a func(done, total) that moves a bar of total items on w, or nil when w
// is not a terminal (the form of the Progress options of packages study, demo, hashscan).
func Callback(w io.Writer, total int, label string) func(done, total int) {
	if !IsTerminal(w) {
		return nil
	}
	bar := New(w, total, label)
	return func(done, _ int) { _ = bar.Set(done) }
}

// Factory returns a func that starts one bar per labelled phase on w, or nil when w is not a
// terminal (study.Options.Progress).
func Factory(w io.Writer) func(label string, total int) func(done int) {
	if !IsTerminal(w) {
		return nil
	}
	return func(label string, total int) func(int) {
		bar := New(w, total, label)
		return func(done int) { _ = bar.Set(done) }
	}
}

// Steps is a bar over the training steps from+1..to of one run: it counts this run's steps,
// so that its rate and time left stay right after a resume.
type Steps struct {
	bar      *progressbar.ProgressBar
	from, to int
}

// NewSteps returns the bar of steps from+1..to on w (silent unless a terminal).
func NewSteps(w io.Writer, from, to int) *Steps {
	b := &Steps{from: from, to: to}
	w = Writer(w)
	b.bar = progressbar.NewOptions(max(to-from, 0), progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(Throttle), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	b.Describe("")
	return b
}

// Describe sets the bar's label: the run's step range, then note.
func (b *Steps) Describe(note string) {
	d := fmt.Sprintf("training steps %d-%d", b.from+1, b.to)
	if note != "" {
		d += " (" + note + ")"
	}
	b.bar.Describe(d)
}

// Set shows that step (an absolute step number) is done.
func (b *Steps) Set(step int) { _ = b.bar.Set(step - b.from) }

// Finish completes the bar.
func (b *Steps) Finish() { _ = b.bar.Finish() }
