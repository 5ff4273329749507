package cachestore

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkMemory_FullStoreDelay reproduces issue 15's full-cache tail without the network: a
// store filled to its budget (SHOAL_FULL_MIB, default 128) under the memory limit cmd/shoal
// sets (1.125x), one P as the bench's pinned shoal has, and an open loop of 5,000 lookups a
// second of which 6% miss and store a new object (zipf-1k's origin share). What it reports
// is how late each lookup started after its planned time (the collector holding the one P
// delays it) while a collection runs once a second, as the misses' allocation makes one run
// on the real node, and what the collector spent (runtime/metrics). Not a speed: one run
// (-benchtime 1x) with its percentiles.
func BenchmarkMemory_FullStoreDelay(b *testing.B) {
	mib := 128
	if s := os.Getenv("SHOAL_FULL_MIB"); s != "" {
		var err error
		if mib, err = strconv.Atoi(s); err != nil {
			b.Fatalf("SHOAL_FULL_MIB: %v", err)
		}
	}
	period := time.Second
	if s := os.Getenv("SHOAL_GC_PERIOD"); s != "" {
		var err error
		if period, err = time.ParseDuration(s); err != nil {
			b.Fatalf("SHOAL_GC_PERIOD: %v", err)
		}
	}
	budget := int64(mib) << 20
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(budget + budget/8 + int64(liveHeap())))
	m := newTestMemory(b, Config{MaxBytes: budget})
	n := int(budget / 1100)
	for i := range n * 5 / 4 {
		m.Set(edgeObject(i, 1024))
	}
	names := []string{"/gc/cycles/total:gc-cycles", "/cpu/classes/gc/mark/assist:cpu-seconds",
		"/cpu/classes/gc/mark/dedicated:cpu-seconds", "/cpu/classes/gc/mark/idle:cpu-seconds",
		"/cpu/classes/gc/pause:cpu-seconds", "/cpu/classes/scavenge/total:cpu-seconds",
		"/gc/scan/heap:bytes", "/gc/heap/objects:objects"}
	samples := make([]rtmetrics.Sample, len(names))
	for i, name := range names {
		samples[i].Name = name
	}
	read := func() []float64 {
		rtmetrics.Read(samples)
		out := make([]float64, len(samples))
		for i, s := range samples {
			switch s.Value.Kind() {
			case rtmetrics.KindUint64:
				out[i] = float64(s.Value.Uint64())
			case rtmetrics.KindFloat64:
				out[i] = s.Value.Float64()
			}
		}
		return out
	}
	for range b.N {
		before := read()
		stop := make(chan struct{})
		collected := make(chan time.Duration, 16)
		go func() { // a collection a second, as the misses' allocation starts one on the node
			for {
				select {
				case <-stop:
					close(collected)
					return
				case <-time.After(period):
					if period >= time.Hour {
						continue
					}
					t := time.Now()
					runtime.GC()
					collected <- time.Since(t)
				}
			}
		}()
		// The lookups' planned times come from another process over a pipe (see
		// TestMain's delayClient): a request arrives through the network poller, which an
		// idle mark worker polls and yields to, and a timer in this process would not.
		client := exec.Command(os.Args[0], "-test.run=^$")
		client.Env = append(os.Environ(), delayClientEnv+"=1")
		out, err := client.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := client.Start(); err != nil {
			b.Fatal(err)
		}
		delays := make([]time.Duration, 0, delayRate*delaySeconds)
		fresh := n * 5 / 4
		var buf [8]byte
		for i := 0; ; i++ {
			if _, err := io.ReadFull(out, buf[:]); err != nil {
				break
			}
			delays = append(delays, time.Since(time.Unix(0, int64(binary.LittleEndian.Uint64(buf[:])))))
			if i%16 == 0 { // ~6% miss and store a new object: 1 in 16
				m.Set(edgeObject(fresh, 1024))
				_ = make([]byte, 2800) // what else a miss allocates (4.8 KiB in all)
				fresh++
			} else {
				m.Get("http://127.0.0.1:18201/1k.bin?o=" + strconv.Itoa(fresh-1-i%(n/2)))
			}
		}
		if err := client.Wait(); err != nil {
			b.Fatal(err)
		}
		close(stop)
		var gcs []time.Duration
		for d := range collected {
			gcs = append(gcs, d)
		}
		after := read()
		slices.Sort(delays)
		q := func(p float64) float64 { return float64(delays[int(p*float64(len(delays)-1))]) / 1e6 }
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(q(0.999), "p99.9-ms")
		b.ReportMetric(q(1), "max-ms")
		var wall time.Duration
		for _, d := range gcs {
			wall += d
		}
		if len(gcs) > 0 {
			b.ReportMetric(float64(wall)/float64(len(gcs))/1e6, "ms/collection")
		}
		b.ReportMetric(after[0]-before[0], "collections")
		for i, name := range names[1:6] {
			b.ReportMetric((after[i+1]-before[i+1])*1e3, name[len("/cpu/classes/"):len(name)-len(":cpu-seconds")]+"-ms")
		}
		b.ReportMetric(after[6], "scan-heap-B")
		b.ReportMetric(after[7], "heap-objects")
	}
	runtime.KeepAlive(m)
}

const (
	delayClientEnv          = "SHOAL_DELAY_CLIENT"
	delayRate, delaySeconds = 5000, 4
)

func TestMain(m *testing.M) {
	if os.Getenv(delayClientEnv) != "" {
		delayClient()
		return
	}
	os.Exit(m.Run())
}

// delayClient writes delayRate planned times a second (Unix ns, 8 bytes each) to stdout for
// delaySeconds, each when it is due: BenchmarkMemory_FullStoreDelay's open-loop client.
func delayClient() {
	w := bufio.NewWriterSize(os.Stdout, 8)
	start := time.Now()
	var buf [8]byte
	for i := range delayRate * delaySeconds {
		next := start.Add(time.Duration(i) * time.Second / delayRate)
		for time.Now().Before(next) {
			if d := time.Until(next); d > 100*time.Microsecond {
				time.Sleep(d - 50*time.Microsecond)
			}
		}
		binary.LittleEndian.PutUint64(buf[:], uint64(time.Now().UnixNano())) // sent, not planned: its own lateness is not the store's
		w.Write(buf[:])
		w.Flush()
	}
}
