//go:build !linux

package edge

// setCork does nothing off Linux: TCP_CORK is Linux's, and BSD's TCP_NOPUSH holds the last
// partial segment differently (it is not released by clearing it on every system), so large
// disk hits there are sent as smaller ones are.
func setCork(fd uintptr, on int) {}

// isCorked is false off Linux, where setCork never corks.
func isCorked(fd uintptr) bool { return false }
