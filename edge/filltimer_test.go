package edge

import (
	"io"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-cdn/shoal/edge/coalesce"
)

// scriptedBody returns its reads in order, each a count of bytes and an error.
type scriptedBody struct {
	reads []scriptedRead
}

type scriptedRead struct {
	n   int
	err error
}

func (b *scriptedBody) Read(p []byte) (int, error) {
	if len(b.reads) == 0 {
		return 0, io.EOF
	}
	r := b.reads[0]
	b.reads = b.reads[1:]
	return r.n, r.err
}

// copyBody re-arms the fill timeout (progress) only after a read that leaves more to read:
// a 1 KiB body that came with its head ends with its first read and waits on nothing after
// it, so its fill arms the timer once (fillHead), not twice.
func TestCopyBody_progressOnlyBeforeAnotherRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reads []scriptedRead
		want  int
	}{
		{"whole in one read that ends it", []scriptedRead{{1024, io.EOF}}, 0},
		{"two reads, the second ends it", []scriptedRead{{512, nil}, {512, io.EOF}}, 1},
		{"the end in a read of its own", []scriptedRead{{1024, nil}, {0, io.EOF}}, 1},
		{"three reads", []scriptedRead{{256, nil}, {256, nil}, {512, io.EOF}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pipeline{metrics: newMetrics(prometheus.NewRegistry())}
			var g coalesce.Group[*fillHead]
			j := &fillJob{}
			j.call, _, _ = g.Join("k", coalesce.Options{})
			armed := 0
			if !p.copyBody(j, &scriptedBody{reads: tc.reads}, 1024, &diskStream{}, func() { armed++ }) {
				t.Fatal("the body did not arrive whole")
			}
			if armed != tc.want {
				t.Errorf("the timeout re-armed %d times, want %d", armed, tc.want)
			}
			if body, _ := j.call.Written(); len(body) != 1024 {
				t.Errorf("%d bytes written to the call, want 1024", len(body))
			}
		})
	}
}
