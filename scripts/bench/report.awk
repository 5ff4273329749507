# Turns run.sh's raw rows into the tables: mean req/s, p50 and p99 per workload and target over
# the rounds, the ratio to Varnish, the target's CPU per response and how busy the load
# generator's core was; latency at a fixed rate with ratios to the best peer; then
# memory per cached object and the tracker's targets. Needs -v rate=<the latency run's req/s>.
BEGIN { FS = "\t" }
$1 == "run" {
  k = $2 SUBSEP $3
  if (!(k in n)) {
    if (!($2 in seenw)) { seenw[$2] = 1; wl[++nw] = $2 }
    if (!($3 in seent)) { seent[$3] = 1; tl[++nt] = $3 }
    lo[k] = $5; hi[k] = $5
  }
  rr[k, $4] = $5; if (!($4 in seenr)) { seenr[$4] = 1; rl[++nr] = $4 }
  n[k]++; rps[k] += $5; p50[k] += $6; p99[k] += $7; reqs[k] += $8; errs[k] += $9; orig[k] += $10
  # CPU ticks (1/100 s) the target used during the run, and the load generator's core busy %
  # (rows written before these columns existed have neither).
  if (NF >= 12) { ticks[k] += $11; nload[k]++; load[k] += $12 }
  # Context switches of the target's threads, voluntary and involuntary (newer rows only).
  if (NF >= 14) { ncsw[k]++; vsw[k] += $13; isw[k] += $14 }
  # Which client ran (wrk or sinkload) and its own CPU time in microseconds (newer rows only).
  if (NF >= 16) { client[k] = $15; nclcpu[k]++; clcpu[k] += $16 }
  # The disk tier's hits over the run: shoal-disk's only ("-" elsewhere and in older rows).
  if (NF >= 17 && $17 != "-") { ndisk[k]++; disk[k] += $17 }
  if ($5 < lo[k]) lo[k] = $5
  if ($5 > hi[k]) hi[k] = $5
}
# Fixed-rate latency rows: percentiles are means over the rounds; a run that produced no
# requests (the probe failed) is counted apart instead of averaging in as zero.
$1 == "lat" {
  k = $2 SUBSEP $3
  if (!(k in ln) && !(k in lfail)) {
    if (!($2 in lseenw)) { lseenw[$2] = 1; lwl[++lnw] = $2 }
    if (!($3 in lseent)) { lseent[$3] = 1; ltl[++lnt] = $3 }
  }
  if ($9 + 0 == 0) { lfail[k]++; next }
  ln[k]++; l50[k] += $5; l99[k] += $6; l999[k] += $7; lreq[k] += $9; lok[k] += $8 * $9
  lsent[k] += $10; lerr[k] += $11; lorig[k] += $12
}
# The check after the warm-up that shoal-disk's next request is a disk hit (measure.sh).
$1 == "warm" && $4 != "ok" { warmbad = warmbad sprintf("warm-up check: %s %s: %s\n", $2, $3, $4) }
$1 == "mem" {
  mt[++nm] = $2; rss0[$2] = $3; rss1[$2] = $4; held[$2] = $6 - $5; tmpfs[$2] = $8 - $7
  # HAProxy touches its whole cache at start; count the blocks taken instead, each 1024 B of
  # data plus a 40 B struct shared_block header (HAProxy 2.6, amd64).
  if ($2 == "haproxy") blocks = $8 - $7
}
END {
  printf "%-12s %-12s %10s %7s %8s %8s %7s %6s %7s %11s %5s %6s  %s\n", "workload", "target", "req/s", "vs vrn", "p50 ms", "p99 ms", "spread", "errors", \
    "cpu us", "csw vol/inv", "load", "cl us", "note"
  for (i = 1; i <= nw; i++) {
    w = wl[i]; base = ((w, "varnish") in n) ? rps[w, "varnish"] / n[w, "varnish"] : 0
    for (j = 1; j <= nt; j++) {
      t = tl[j]; k = w SUBSEP t
      if (!(k in n)) continue
      m = rps[k] / n[k]; mr[k] = m; m99[k] = p99[k] / n[k]
      note = ""
      if (w ~ /^hit/ && orig[k] > 0.01 * reqs[k]) note = sprintf("NOT CACHED: %d of %d requests reached the origin", orig[k], reqs[k])
      if (w ~ /^hit/ && t == "nginx") note = "bodies read from tmpfs files"
      if (k in ndisk) note = (disk[k] < 0.99 * reqs[k]) ? sprintf("NOT DISK HITS: %d disk hits of %d requests", disk[k], reqs[k]) \
        : "disk tier on tmpfs: every hit a disk hit"
      # CPU microseconds per response: ticks of 10 ms over the requests of every round.
      cpu[k] = (k in nload && reqs[k] > 0) ? ticks[k] * 10000 / reqs[k] : 0
      lp[k] = (k in nload) ? load[k] / nload[k] : -1
      cl = (k in client) ? client[k] : "wrk"
      if (lp[k] >= 95) note = note (note == "" ? "" : "; ") "load core saturated: req/s measures " cl
      if (cl == "sinkload" && m == 0) note = note (note == "" ? "" : "; ") "REFUSED by sinkload: bodies not of the expected size, or errors"
      # The client's own CPU per response, microseconds (wrk or sinkload, on the load core).
      clus = (k in nclcpu && reqs[k] > 0) ? sprintf("%.1f", clcpu[k] / reqs[k]) : "-"
      # Context switches per response, voluntary/involuntary, over every round.
      csw = (k in ncsw && reqs[k] > 0) ? sprintf("%.2f/%.2f", vsw[k] / reqs[k], isw[k] / reqs[k]) : "-"
      printf "%-12s %-12s %10.0f %7s %8.2f %8.2f %6.1f%% %6d %7s %11s %5s %6s  %s\n", w, t, m, (base > 0 ? sprintf("%.2fx", m / base) : "-"), \
        p50[k] / n[k], m99[k], (m > 0 ? 100 * (hi[k] - lo[k]) / m : 0), errs[k], \
        (cpu[k] > 0 ? sprintf("%.1f", cpu[k]) : "-"), csw, (lp[k] >= 0 ? sprintf("%.0f%%", lp[k]) : "-"), clus, note
    }
  }
  if (warmbad != "") printf "\n%s", warmbad
  if (lnw > 0) latency_table()
  if (nm > 0) {
    printf "\nmemory per cached 1 KiB object (RSS after - RSS before) / objects held\n"
    printf "%-8s %8s %12s %10s %11s %7s  %s\n", "target", "held", "RSS delta", "B/object", "above body", "vs vrn", "note"
    for (i = 1; i <= nm; i++) {
      t = mt[i]; per[t] = held[t] > 0 ? (rss1[t] - rss0[t]) * 1024 / held[t] : 0
      if (t == "haproxy" && held[t] > 0) per[t] = blocks * 1064 / held[t]
    }
    for (i = 1; i <= nm; i++) {
      t = mt[i]; note = ""
      if (t == "varnish") note = "child process; -s malloc"
      if (t == "haproxy") note = sprintf("%d cache blocks x 1064 B (its shared memory is all in RSS from start)", blocks)
      if (t == "nginx") note = sprintf("RSS holds keys only; bodies are tmpfs files (page cache): with them %.0f B/object", \
        (held[t] > 0 ? ((rss1[t] - rss0[t]) * 1024 + tmpfs[t]) / held[t] : 0))
      printf "%-8s %8d %9.1f MiB %10.0f %11.0f %7s  %s\n", t, held[t], (rss1[t] - rss0[t]) / 1024, per[t], per[t] - 1024, \
        (per["varnish"] > 0 ? sprintf("%.2fx", per[t] / per["varnish"]) : "-"), note
    }
  }
  printf "\ntracker targets for shoal (measured, not asserted; shoal: memory tier, shoal-disk: disk tier on nginx's tmpfs)\n"
  for (i = 1; i <= nw; i++) for (si = 1; si <= 2; si++) {
    s = si == 1 ? "shoal" : "shoal-disk"
    w = wl[i]; if (!((w, s) in n)) continue
    best = 0; bestt = ""; bp99 = -1
    # refproxy is no peer: it is the stack's floor, compared on its own line below.
    for (j = 1; j <= nt; j++) {
      t = tl[j]; if (t ~ /^shoal/ || t == "refproxy" || !((w, t) in n)) continue
      # Issue 15's goals: hits and misses against the best peer, pass against nginx.
      if (w ~ /^pass/ && t != "nginx") continue
      if (mr[w, t] > best) { best = mr[w, t]; bestt = t }
    }
    for (j = 1; j <= nt; j++) {
      t = tl[j]; if (t ~ /^shoal/ || t == "refproxy" || !((w, t) in n)) continue
      if (bp99 < 0 || m99[w, t] < bp99) { bp99 = m99[w, t]; bp99t = t }
    }
    if (bestt == "") continue # TARGETS left out every peer
    # met as issue 15 words it: hits at least 1.1x the best peer's req/s, pass and misses
    # 1.0x, and p99 at most 1.5x the best peer's.
    goal = w ~ /^hit/ ? 1.1 : 1.0
    printf "%-12s %-10s req/s %.2fx %s (%s, goal %.1fx)   p99 %.2f ms vs best peer %.2f ms (%s, goal 1.5x)   %s%s\n", w, s, (best > 0 ? mr[w, s] / best : 0), \
      (w ~ /^pass/ ? "of nginx" : "of best peer"), bestt, goal, m99[w, s], bp99, bp99t, \
      (best == 0 ? "n/a" : (mr[w, s] >= goal * best && m99[w, s] <= 1.5 * bp99) ? "met" : "short"), \
      (cpu[w, s] > 0 && cpu[w, bestt] > 0 ? sprintf("   cpu/response %.2fx %s's", cpu[w, s] / cpu[w, bestt], bestt) : "")
  }
  for (i = 1; i <= nw; i++) {
    w = wl[i]; if (!((w, "shoal") in n) || !((w, "refproxy") in n) || mr[w, "refproxy"] == 0) continue
    printf "%-9s req/s %.2fx of refproxy (the bare fasthttp proxy)   p99 %.2f vs %.2f ms%s\n", w, mr[w, "shoal"] / mr[w, "refproxy"], \
      m99[w, "shoal"], m99[w, "refproxy"], \
      (cpu[w, "shoal"] > 0 && cpu[w, "refproxy"] > 0 ? sprintf("   cpu/response %.2fx refproxy's", cpu[w, "shoal"] / cpu[w, "refproxy"]) : "")
  }
  for (i = 1; i <= lnw; i++) {
    w = lwl[i]; if (!((w, "shoal") in ln) || best99[w] == 0) continue
    printf "%-9s p99 at %d req/s %.2f ms vs best peer %.2f ms (%s, goal 1.5x)   %s\n", "lat-" w, rate, lm99[w, "shoal"], best99[w], \
      best99t[w], (lm99[w, "shoal"] <= 1.5 * best99[w] ? "met" : "short")
  }
  if (nw > 0 && (wl[1], "shoal-policy") in n) policy_table()
  if ("shoal" in per) printf "memory    %.0f B above the 1 KiB body (target <= 512)   %s\n", per["shoal"] - 1024, (per["shoal"] - 1024 <= 512 ? "met" : "short")
}

# policy_table prints, per workload, shoal-policy's req/s over shoal's (SHOAL_POLICY=example):
# the ratio of the two means, the median and the spread ((max - min) / ratio) of each round's
# own ratio (the two ran next to each other in that round; on a busy machine the median is
# the steadier figure), and the target of issue 17 for hit rows (within 5%).
function policy_table(    i, j, w, r, m, lo, hi, per, med, sp, verdict) {
  printf "\npolicy cost: shoal-policy (example policy) / shoal, req/s, same run\n"
  printf "%-9s %10s %13s %7s %7s %7s  %-22s %s\n", "workload", "shoal", "shoal-policy", "ratio", "median", "spread", "per round", "target"
  for (i = 1; i <= nw; i++) {
    w = wl[i]; if (!((w, "shoal") in n) || !((w, "shoal-policy") in n)) continue
    per = ""; lo = hi = -1
    for (j = 1; j <= nr; j++) {
      r = rl[j]; if (!((w, "shoal", r) in rr) || !((w, "shoal-policy", r) in rr) || rr[w, "shoal", r] == 0) continue
      m = rr[w, "shoal-policy", r] / rr[w, "shoal", r]
      per = per (per == "" ? "" : " ") sprintf("%.3f", m)
      if (lo < 0 || m < lo) lo = m
      if (hi < 0 || m > hi) hi = m
    }
    m = mr[w, "shoal"] > 0 ? mr[w, "shoal-policy"] / mr[w, "shoal"] : 0
    med = median(per); sp = m > 0 ? 100 * (hi - lo) / m : 0
    verdict = w !~ /^hit/ ? "-" : med >= 0.95 ? "met (median >= 0.95)" : "short (median < 0.95)"
    if (w ~ /^hit/ && sp > 10) verdict = verdict "; spread over 10%: machine busy, not conclusive"
    printf "%-9s %10.0f %13.0f %7.3f %7.3f %6.1f%%  %-22s %s\n", w, mr[w, "shoal"], mr[w, "shoal-policy"], m, med, sp, per, verdict
  }
}

# median of the numbers in a space-separated list (the per-round ratios).
function median(list,    v, k, i, j, t) {
  k = split(list, v, " ")
  if (k == 0) return 0
  for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
  return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}

# latency_table prints the fixed-rate rows; each "x" column divides by the best peer's value
# (the lowest of the targets other than shoal), so 1.00x is the best peer and below it is better.
function latency_table(    i, j, w, t, k, q, b50, b99, b999, note) {
  printf "\nlatency at %d req/s, open loop, measured from the schedule (x: ratio to the best peer)\n", rate
  printf "%-9s %-8s %9s %6s %9s %6s %9s %6s %9s %8s %6s  %s\n", "workload", "target", "p50 ms", "x", "p99 ms", "x", \
    "p99.9 ms", "x", "success", "sent/s", "errors", "note"
  for (i = 1; i <= lnw; i++) {
    w = lwl[i]; b50 = b99 = b999 = 0
    for (j = 1; j <= lnt; j++) {
      t = ltl[j]; k = w SUBSEP t
      if (!(k in ln)) continue
      lm50[k] = l50[k] / ln[k]; lm99[k] = l99[k] / ln[k]; lm999[k] = l999[k] / ln[k]
      if (t ~ /^shoal/) continue
      if (b50 == 0 || lm50[k] < b50) b50 = lm50[k]
      if (b999 == 0 || lm999[k] < b999) b999 = lm999[k]
      if (b99 == 0 || lm99[k] < b99) { b99 = lm99[k]; best99t[w] = t }
    }
    best99[w] = b99
    for (j = 1; j <= lnt; j++) {
      t = ltl[j]; k = w SUBSEP t
      if (!(k in ln)) { if (k in lfail) printf "%-9s %-8s no result: all %d runs failed\n", w, t, lfail[k]; continue }
      note = ""
      # With FULL_CACHE_MIB the Zipf tail was evicted: its misses are the point, not a fault.
      if (full > 0 && w ~ /^zipf/) note = sprintf("%d of %d requests reached the origin (full cache)", lorig[k], lreq[k])
      else if (lorig[k] > 0.01 * lreq[k]) note = sprintf("NOT CACHED: %d of %d requests reached the origin", lorig[k], lreq[k])
      if (lsent[k] / ln[k] < 0.95 * rate) note = note (note == "" ? "" : "; ") "load generator fell behind the rate"
      if (k in lfail) note = note (note == "" ? "" : "; ") sprintf("%d of %d runs failed", lfail[k], lfail[k] + ln[k])
      printf "%-9s %-8s %9.3f %6s %9.3f %6s %9.3f %6s %8.2f%% %8.0f %6d  %s\n", w, t, \
        lm50[k], ratio(lm50[k], b50), lm99[k], ratio(lm99[k], b99), lm999[k], ratio(lm999[k], b999), \
        100 * lok[k] / lreq[k], lsent[k] / ln[k], lerr[k], note
    }
  }
}

function ratio(v, best) { return best > 0 ? sprintf("%.2fx", v / best) : "-" }
