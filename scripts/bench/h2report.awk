# Reads bench-h2.sh's raw rows (tab-separated: run workload target round rps succeeded failed
# header_bytes origin_requests cpu_ticks load_core_busy_pct syscalls) and prints two tables, one row
# per workload: req/s (median of the rounds) with Shoal's ratio to each other target, and
# each target's CPU per response (µs: its processes' CPU ticks over the run / responses; the
# median of the rounds) with h2load's core busy (%, the highest round), the encoded
# response header bytes per response, and the server's system calls per 100 responses (the
# same scaling as the CPU; perf stat's count). Inputs: -v secs (h2load -D), -v warm (--warm-up-time;
# its responses are not in h2load's count but its CPU is, so responses are scaled by
# (secs + warm) / secs), -v hz (clock ticks per second), -v targets (the column order).
BEGIN { FS = "\t"; if (!hz) hz = 100; nt = split(targets, ts, " "); for (i = 1; i <= nt; i++) seent[ts[i]] = 1 }
$1 == "run" {
  w = $2; t = $3
  if (!(w in seenw)) { seenw[w] = 1; ws[++nw] = w }
  if (!(t in seent)) { seent[t] = 1; ts[++nt] = t }
  rps[w, t] = rps[w, t] " " $5
  if ($6 > 0) {
    cpu[w, t] = cpu[w, t] " " ($10 * 1e6 / hz) / ($6 * (secs + warm) / secs)
    hdr[w, t] = hdr[w, t] " " $8 / $6
    sys[w, t] = sys[w, t] " " 100 * $12 / ($6 * (secs + warm) / secs)
  }
  if ($11 + 0 > load[w, t] + 0) load[w, t] = $11
  if ($7 > 0 || $9 > 0) bad[w] = 1
}
function median(s,   a, k, i, j, x) {
  k = split(s, a, " ")
  if (k == 0) return 0
  for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
END {
  # Shoal first among the ratios' denominators: shoal/<each other target>.
  printf "req/s (median)\n%-13s", "workload"
  for (i = 1; i <= nt; i++) printf " %11s", ts[i]
  for (i = 1; i <= nt; i++) if (ts[i] != "shoal") printf " %14s", "shoal/" ts[i]
  printf "\n"
  for (k = 1; k <= nw; k++) {
    w = ws[k]; sh = median(rps[w, "shoal"])
    printf "%-13s", w
    for (i = 1; i <= nt; i++) printf " %11.0f", median(rps[w, ts[i]])
    for (i = 1; i <= nt; i++) if (ts[i] != "shoal") { o = median(rps[w, ts[i]]); printf " %13.2fx", o ? sh / o : 0 }
    printf "%s\n", bad[w] ? "  (failed requests or origin traffic: see raw rows)" : ""
  }
  printf "\nCPU per response on core 0, us (median); [h2load core busy %%, highest round; >= 95: load-bound];\n"
  printf "header bytes per response; system calls per 100 responses\n%-13s", "workload"
  for (i = 1; i <= nt; i++) printf " %29s", ts[i]
  for (i = 1; i <= nt; i++) if (ts[i] != "shoal") printf " %14s", ts[i] "/shoal"
  printf "\n"
  for (k = 1; k <= nw; k++) {
    w = ws[k]; sh = median(cpu[w, "shoal"])
    printf "%-13s", w
    for (i = 1; i <= nt; i++) {
      t = ts[i]
      printf " %6.2f [%3d%%%s] %4.0f B %4.0f", median(cpu[w, t]), load[w, t], (load[w, t] >= 95 ? "!" : " "), median(hdr[w, t]), median(sys[w, t])
    }
    for (i = 1; i <= nt; i++) if (ts[i] != "shoal") { o = median(cpu[w, ts[i]]); printf " %13.2fx", sh ? o / sh : 0 }
    printf "\n"
  }
}
