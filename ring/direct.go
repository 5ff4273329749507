package ring

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

// Every user message this ring puts on memberlist's transport starts with one kind byte, so
// a purge broadcast and a direct message never reach the wrong callback.
const (
	kindBroadcast byte = 1
	kindDirect    byte = 2
)

// ErrUnknownMember is returned by SendDirect and Knock for a name that is neither a live
// member nor one out of the view for at most 30 s (keepGone).
var ErrUnknownMember = errors.New("ring: no such live member")

// SendDirect sends msg to the member called name in one UDP datagram on the gossip port
// (encrypted with the cluster secret like all gossip), outside the gossip queue: it leaves
// at once and arrives, if at all, about one network round trip later. Delivery is best
// effort (no retry, no acknowledgement); the receiver gets it through Options.OnDirect. It
// is for small, frequent, time-critical messages such as the VIP holders' heartbeats, and
// never blocks beyond one socket write. A member memberlist declared dead, or that left, is
// still reached for 30 s (keepGone): it may be a live process under loss or starvation. It
// fails for an unknown name, on a ring that is not started or runs alone, and for messages
// over MaxBroadcastSize.
func (r *Ring) SendDirect(name string, msg []byte) error {
	if len(msg) > MaxBroadcastSize {
		return fmt.Errorf("ring: direct message of %d bytes over %d", len(msg), MaxBroadcastSize)
	}
	ml := r.ml.Load()
	if ml == nil {
		return errors.New("ring: not started or running alone")
	}
	n, err := r.reachable(name)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(msg)+1)
	buf = append(append(buf, kindDirect), msg...)
	if err := ml.SendBestEffort(n, buf); err != nil {
		return fmt.Errorf("ring: direct message to %s: %w", name, err)
	}
	return nil
}

// Knock opens and at once closes a TCP connection to the gossip port of the member called
// name, within timeout, and returns the dial error. It tells a dead process from a slow one
// without any help from the process: while the process lives its listening socket is open
// and the kernel accepts the connection, however starved of CPU the process is (nil); once
// it died the kernel refuses at once (an error wrapping syscall.ECONNREFUSED); a host that
// is down or cut off does not answer (a timeout). memberlist sees a stream closed before
// its first byte and ignores it.
func (r *Ring) Knock(name string, timeout time.Duration) error {
	ml := r.ml.Load()
	if ml == nil {
		return errors.New("ring: not started or running alone")
	}
	n, err := r.reachable(name)
	if err != nil {
		return err
	}
	c, err := net.DialTimeout("tcp", n.Address(), timeout)
	if err != nil {
		return fmt.Errorf("ring: knock on %s: %w", name, err)
	}
	return c.Close()
}

// reachable finds the member called name: a live one, or one out of the view for at most
// keepGone (memberlist may have declared a live process dead; see keepGone).
func (r *Ring) reachable(name string) (*memberlist.Node, error) {
	if n, ok := r.addressOf(name, time.Now()); ok {
		return n, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownMember, name)
}
