package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shoal-cdn/shoal/loadtest"
)

// interruptible is signal.NotifyContext for SIGINT and SIGTERM with vegeta's second step, for
// `shoal loadtest`: the first signal ends the context (stop sending; requests in flight
// finish, each within its timeout), the second closes the abandon channel loadtest reads
// (loadtest.WithAbandon: stop waiting for them), as vegeta's CLI exits at a second Ctrl-C.
func interruptible() (context.Context, func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	abandon, done := make(chan struct{}), make(chan struct{})
	go func() {
		for _, step := range []func(){cancel, func() { close(abandon) }} {
			select {
			case <-sigs:
				step()
			case <-done:
				return
			}
		}
	}()
	return loadtest.WithAbandon(ctx, abandon), func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
