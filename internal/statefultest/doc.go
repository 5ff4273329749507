// Package statefultest drives real edge nodes (one node, or a cluster whose members join,
// leave and die) in front of a deterministic origin through random, seeded operation
// sequences, and checks every answer against a reference model of what the cache promises:
//
//   - a body belongs to the URL and, when the response varies, to the variant asked for
//     (RFC 9111 section 4.1), in an encoding the client accepted;
//   - a body is whole: exactly what the origin sent, never cut short as if complete;
//   - a body answers a request the origin was asked (its serial is in the origin's log,
//     for that URL and variant);
//   - after a hard purge was acknowledged by every node, no request sent later gets content
//     older than the purge.
//
// A failing sequence is shrunk by deleting steps while it still fails, and printed with its
// seed. The package holds only test code; it is run by `make test` briefly and by
// `make test-stateful` at length.
package statefultest
