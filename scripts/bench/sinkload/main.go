// Command sinkload is make bench's closed-loop client for large bodies: N keep-alive
// HTTP/1.1 connections, each sending its next GET as soon as the last response has ended
// (wrk's model), that read every response's head and framing but let the kernel drop the
// body's bytes instead of copying them out (recv with MSG_TRUNC on Linux; a copying read
// elsewhere). wrk copies each body into its buffer, and at 256 KiB and more that copy, on
// wrk's one core, was what set the pace of every fast target alike.
//
// It promises an honest row: every response's status line and head are parsed, its body
// framed by Content-Length or chunked coding (or the connection's close), and its body bytes
// counted; a response that is not 2xx, whose body is not -size bytes, or that ends early is
// an error; latency is every response's own (write of the request to the body's last byte),
// and p50/p99 are read off all of them sorted, not estimated. It prints one tab-separated
// line for run.sh:
//
//	rps p50_ms p99_ms responses errors body_bytes cpu_us
//
// responses counts the responses that ended inside the run (any status); body_bytes is what
// their bodies held; cpu_us is this process's CPU time (user + system) over the run. The row
// is refused (exit status 2, the line still printed, the reason on stderr) when body_bytes is
// not responses × -size or when any error was counted: a row that measured something other
// than -size bodies cannot be compared. Exit status 1 on a bad flag.
//
// With -urls FILE instead of -url, the requests walk a list of URLs (one a line, all on one
// host and port), each connection starting one line further than the last, as h2load -i
// assigns them: the working set of bench-disk-peers.sh's rows.
//
// Usage: sinkload -url http://127.0.0.1:18304/1m.bin -size 1048576 [-c 64] [-d 5s]
//
//	sinkload -urls FILE -size 262144 [-c 16] [-d 3s]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var refused refusal
	switch {
	case errors.As(err, &refused):
		fmt.Fprintln(os.Stderr, "sinkload: row refused:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sinkload:", err)
		os.Exit(1)
	}
}

// refusal is a run that completed but whose row must not be used.
type refusal struct{ reason string }

func (r refusal) Error() string { return r.reason }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sinkload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "http://host:port/path to GET again and again (this or -urls)")
	list := fs.String("urls", "", "file of http://host:port/path URLs, one a line, one host: each connection walks them in turn")
	size := fs.Int64("size", -1, "expected body bytes of every response (required)")
	conns := fs.Int("c", 64, "keep-alive connections, each with one request in flight")
	duration := fs.Duration("d", 5*time.Second, "length of the run")
	timeout := fs.Duration("timeout", 10*time.Second, "bound on one response; past it the response is an error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *size < 0 || *conns <= 0 || *duration <= 0 || *timeout <= 0 {
		return errors.New("-size is required, and -c, -d and -timeout must be above 0")
	}
	targets, err := urlsOf(*target, *list)
	if err != nil {
		return err
	}
	addr, reqs, err := requests(targets)
	if err != nil {
		return err
	}

	cpu0 := cpuTime()
	res := load(loadConfig{addr: addr, requests: reqs, size: *size, conns: *conns, duration: *duration, timeout: *timeout})
	cpu := cpuTime() - cpu0

	p50, p99 := percentile(res.latencies, 0.50), percentile(res.latencies, 0.99)
	fmt.Fprintf(stdout, "%.1f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\n", float64(res.responses)/res.elapsed.Seconds(),
		ms(p50), ms(p99), res.responses, res.errors(), res.bodyBytes, cpu.Microseconds())
	for kind, n := range res.errs {
		fmt.Fprintf(stderr, "sinkload: %d errors: %s\n", n, kind)
	}
	if want := res.responses * *size; res.bodyBytes != want {
		return refusal{fmt.Sprintf("%d body bytes over %d responses, want %d (%d each)", res.bodyBytes, res.responses, want, *size)}
	}
	if n := res.errors(); n > 0 {
		return refusal{fmt.Sprintf("%d errors", n)}
	}
	if res.responses == 0 {
		return refusal{"no response ended inside the run"}
	}
	return nil
}

// urlsOf returns the URLs of -url or of the -urls file: exactly one of the two.
func urlsOf(target, list string) ([]string, error) {
	switch {
	case (target == "") == (list == ""):
		return nil, errors.New("want -url or -urls, one of the two")
	case target != "":
		return []string{target}, nil
	}
	b, err := os.ReadFile(list)
	if err != nil {
		return nil, fmt.Errorf("-urls: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-urls %s: no URL in the file", list)
	}
	return out, nil
}

// requests returns the address every URL names and each URL's request: the same bytes wrk
// sends, request line and Host and nothing else (no Accept-Encoding, so every target sends
// its identity body). URLs on two hosts are refused: one run measures one server.
func requests(urls []string) (string, [][]byte, error) {
	var addr string
	reqs := make([][]byte, 0, len(urls))
	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return "", nil, fmt.Errorf("URL %d, %q: want http://host:port/path", i+1, raw)
		}
		a := u.Host
		if u.Port() == "" {
			a += ":80"
		}
		if addr != "" && a != addr {
			return "", nil, fmt.Errorf("URL %d, %q: on %s, not %s like the first", i+1, raw, a, addr)
		}
		addr = a
		reqs = append(reqs, []byte("GET "+u.RequestURI()+" HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n"))
	}
	return addr, reqs, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
