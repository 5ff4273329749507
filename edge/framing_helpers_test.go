package edge

import "github.com/valyala/fasthttp"

// framingProblem is the framingGuard's answer for a raw head (its field lines, as
// fasthttp's RawHeaders gives them), or "".
func framingProblem(raw []byte) string {
	var g framingGuard
	for len(raw) > 0 {
		if _, _, _, problem := g.line(nextLine(&raw)); problem != "" {
			return problem
		}
	}
	return g.end()
}

// readHTTP1Head is readCheckedHTTP1Head without the framing problem, for tests of the view.
func readHTTP1Head(l *fieldList, h *fasthttp.RequestHeader) (host []byte, hosts int) {
	host, hosts, _ = readCheckedHTTP1Head(l, h, 0)
	return host, hosts
}
