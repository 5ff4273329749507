//go:build !linux

package gslb

import "net"

// withSendSocket: only Linux readers send through a socket of their own (sendsocket_linux.go).
func withSendSocket(datagramWriter, *net.UDPConn) (bool, error) { return false, nil }

func (w *xnetWriter) closeSend() error { return nil }
