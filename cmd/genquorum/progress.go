// The parallel sampling of long image commands.

package main

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"
)

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
