//go:build !linux

package main

import (
	"errors"
	"time"
)

// noSlack is timerSlacker where there is no per-thread timer slack to set: own reports an
// error, so applyTimerSlack leaves everything alone.
type noSlack struct{}

var errNoSlack = errors.New("timer slack: not on this platform")

func (noSlack) own() (time.Duration, error)    { return 0, errNoSlack }
func (noSlack) threads() ([]int, error)        { return nil, errNoSlack }
func (noSlack) get(int) (time.Duration, error) { return 0, errNoSlack }
func (noSlack) set(int, time.Duration) error   { return errNoSlack }

// processSlack is the process's timerSlacker.
func processSlack() timerSlacker { return noSlack{} }
