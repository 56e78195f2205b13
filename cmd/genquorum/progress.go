// Progress bars (on a terminal only) and the parallel sampling of long image commands.

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/schollz/progressbar/v3"
)

// barWriter is where progress bars go: w when it is a terminal, else nowhere, since a bar
// redraws itself with carriage returns that only a terminal shows as one line.
func barWriter(w io.Writer) io.Writer {
	if isTerminal(w) {
		return w
	}
	return io.Discard
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// samplingBar is the progress bar of a command that samples n images.
func samplingBar(w io.Writer, n int) *progressbar.ProgressBar {
	w = barWriter(w)
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("sampling"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionThrottle(500*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
}

// stepBar is a progress bar over the training steps from+1..to of one run: it counts this
// run's steps, so that its rate and time left stay right after a resume.
type stepBar struct {
	bar      *progressbar.ProgressBar
	from, to int
}

func newStepBar(w io.Writer, from, to int) *stepBar {
	b := &stepBar{from: from, to: to}
	w = barWriter(w)
	b.bar = progressbar.NewOptions(max(to-from, 0), progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(500*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	b.describe("")
	return b
}

// describe sets the bar's label: the run's step range, then note.
func (b *stepBar) describe(note string) {
	d := fmt.Sprintf("training steps %d-%d", b.from+1, b.to)
	if note != "" {
		d += " (" + note + ")"
	}
	b.bar.Describe(d)
}

// set shows that step (an absolute step number) is done.
func (b *stepBar) set(step int) { _ = b.bar.Set(step - b.from) }

// parallelMap returns f(0), ..., f(n-1), computed GOMAXPROCS at a time: for independent
// images, whose bits do not depend on what runs beside them. The first error cancels the rest.
func parallelMap[T any](ctx context.Context, n int, f func(ctx context.Context, i int) (T, error)) ([]T, error) {
	out := make([]T, n)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n {
		eg.Go(func() error {
			v, err := f(ctx, i)
			out[i] = v
			return err
		})
	}
	return out, eg.Wait()
}
