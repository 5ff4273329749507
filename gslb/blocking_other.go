//go:build !linux

package gslb

import (
	"errors"
	"net"
)

// blockingWorks is false here: the UDP loop reads through the netpoller.
const blockingWorks = false

func openBlockingSockets(*net.UDPConn, int, bool) ([]udpSocket, error) {
	return nil, errors.New("blocking UDP readers need Linux")
}
