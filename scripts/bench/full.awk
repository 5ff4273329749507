# Prints whether each cache of a FULL_CACHE_MIB run was full: the "full" rows of run.sh (when
# target filled held used_bytes evicted rss_kib extra). Full means the target holds fewer
# objects than were filled: its own eviction (or admission policy) dropped some; "used" is how
# much of the budget its own accounting then counts. memory is the RSS plus, for nginx, its
# cache files in the tmpfs (page cache, not RSS). Needs -v mib=<the budget in MiB>; -v hdr=1
# prints the header.
BEGIN { FS = "\t" }
$1 != "full" { next }
hdr && !done++ {
  printf "full cache: budget %d MiB each (filled: when, after the fill or at the end of the run)\n", mib
  printf "%-6s %-8s %9s %9s %10s %6s %9s %8s %10s  %s\n", "when", "target", "filled", "held", "used MiB", "used", \
    "evicted", "RSS MiB", "memory MiB", "full"
}
{
  used = $6 / 1048576; mem = $8 / 1024
  if ($3 == "nginx") mem += used
  full = ($5 < $4) ? "yes" : "NO"
  printf "%-6s %-8s %9d %9d %10.0f %5.0f%% %9s %8.0f %10.0f  %s\n", ($2 == "filled" ? "filled" : "end"), $3, $4, $5, \
    used, 100 * used / mib, $7, $8 / 1024, mem, full
}
