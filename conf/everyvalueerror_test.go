package conf

import "testing"

// A bad size or duration ended yaml.v3's decoding (any error but its own TypeError does), so
// `shoal check` named only the first: an operator mending `memory: 10mb` then met the bad
// timeout below it, then the unknown key, one run each. Every problem now comes at once.
func TestParse_everyBadValueIsReportedAtOnce(t *testing.T) {
	const file = `listen: {http: ":80"}
cache: {memory: 10mb, fill_timeout: -1s}
limits: {read_timeout: 5, max_header_bytes: [1]}
error_pages: {999: x.html}
origins:
  a: {servers: [{url: "http://127.0.0.1:1"}], connect_timeout: 2 s, bogus: 1}
routes: [{origin: a}]
`
	_, err := Parse([]byte(file), "bad.yaml", "")
	wantProblems(t, err, "bad.yaml", []problem{
		{2, "cache.memory"}, {2, "cache.fill_timeout"},
		{3, "limits.read_timeout"}, {3, "limits.max_header_bytes"},
		{4, "error_pages.999"},
		{6, "origins.a.connect_timeout"}, {6, "origins.a.bogus"},
	})
}
