package loadtest

import "context"

type abandonKey struct{}

// WithAbandon returns ctx carrying abandon. An Attack whose ctx has ended waits for the
// requests still in flight (each bounded by its timeout), as vegeta's attack does after a
// first Ctrl-C; once abandon is closed it stops waiting and returns, dropping their results,
// as vegeta's CLI exits at a second Ctrl-C. `shoal loadtest` closes it on a second SIGINT or
// SIGTERM.
func WithAbandon(ctx context.Context, abandon <-chan struct{}) context.Context {
	return context.WithValue(ctx, abandonKey{}, abandon)
}

// abandonOf is the channel WithAbandon put in ctx, or nil (never ready).
func abandonOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(abandonKey{}).(<-chan struct{})
	return ch
}
