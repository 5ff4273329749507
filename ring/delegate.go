package ring

import (
	"github.com/hashicorp/memberlist"
)

// delegate adapts the Ring to memberlist's callbacks. memberlist calls the Delegate methods
// concurrently from its network goroutines and the EventDelegate methods one at a time,
// sometimes while holding its node lock: nothing here may call back into memberlist or block.
type delegate struct{ r *Ring }

var (
	_ memberlist.Delegate      = delegate{}
	_ memberlist.EventDelegate = delegate{}
)

// NodeMeta returns our encoded metadata, which New and SetState keep within the limit.
func (d delegate) NodeMeta(limit int) []byte {
	meta := *d.r.meta.Load()
	if len(meta) > limit {
		// Unreachable while metaMaxSize matches memberlist's limit; memberlist panics on
		// oversized metadata, so send none rather than crash.
		d.r.log.Error("ring: metadata exceeds the gossip limit, sending none", "bytes", len(meta), "limit", limit)
		return nil
	}
	return meta
}

// NotifyMsg hands a broadcast to OnMessage and a direct message to OnDirect, by their kind
// byte; anything else (a peer of another version, a corrupt packet) is dropped. memberlist
// reuses buf, so the callee gets a copy.
func (d delegate) NotifyMsg(buf []byte) {
	if len(buf) < 2 {
		return
	}
	var deliver func([]byte)
	switch buf[0] {
	case kindBroadcast:
		deliver = d.r.opts.OnMessage
	case kindDirect:
		deliver = d.r.opts.OnDirect
	}
	if deliver != nil {
		deliver(append([]byte(nil), buf[1:]...))
	}
}

func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.r.queue.GetBroadcasts(overhead, limit)
}

// LocalState and MergeRemoteState carry nothing: metadata already travels with every
// alive message and push/pull.
func (d delegate) LocalState(join bool) []byte            { return nil }
func (d delegate) MergeRemoteState(buf []byte, join bool) {}
func (d delegate) NotifyJoin(n *memberlist.Node)          { d.r.memberUp(n) }
func (d delegate) NotifyUpdate(n *memberlist.Node)        { d.r.memberUp(n) }
func (d delegate) NotifyLeave(n *memberlist.Node)         { d.r.memberDown(n.Name) }

// broadcast is one message in memberlist's transmit queue. Broadcasts never invalidate one
// another: two purges are two purges.
type broadcast []byte

func (b broadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b broadcast) Message() []byte                       { return b }
func (b broadcast) Finished()                             {}
