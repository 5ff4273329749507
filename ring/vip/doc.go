// Package vip makes this host hold or release the virtual IPs the edge peers share, the job
// keepalived/VRRP does elsewhere but with every peer active: each VIP has exactly one holder,
// chosen by weighted rendezvous hashing over the eligible members, so several VIPs spread
// over several nodes and a failed node's VIPs (and only those) move to the survivors.
//
// Consistency contract: every node computes the same holders from the same view, so once the
// membership view has converged exactly one node holds each VIP. A node whose view lacks a
// quorum (a majority of the largest cluster it has seen, see Quorum) holds nothing, so after
// a partition only the majority side keeps its VIPs. With Options.Detector, a holder whose
// process died is replaced within about 150 ms, before the view changes, but only once a
// majority of the cluster confirms it gone; a holder cut off from the majority releases
// before its successor may take over, and a node adds a VIP only once every reachable peer
// has said it does not hold it (break before make), so views that disagree never give a VIP
// two holders.
// A holder starved of CPU is never taken over by the detector (its host still accepts
// connections to its port); the exception left is a holder both cut off and frozen for
// longer than the 270 ms margin, which cannot release in time. The holder announces a VIP with a burst
// of gratuitous ARP (IPv4) or unsolicited neighbour advertisements (IPv6) when it acquires it,
// again whenever a member comes back into view (a healed partition), and periodically while
// it holds it, so clients never keep a dead MAC for long. A Manager's methods are safe for
// concurrent use; its address and announcement work runs on its own goroutine.
package vip
