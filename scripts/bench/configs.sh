# Sourced by run.sh: writes the origin's and each target's configuration into $work.
# Every server listens on 127.0.0.1 only. Inputs: $work, $cache_dir, $mem_mib, $full_mib and the
# ports below.
# The targets are configured alike: cache everything under / for the origin's max-age,
# never cache /pass/, one core's worth of workers, no access logs.

port_origin=18300
port_varnish=18301
port_nginx=18302
port_haproxy=18303
port_shoal=18304
port_shoal_admin=18305
port_varnish_admin=18306
port_haproxy_cli=18307
port_shoal_policy=18308
port_shoal_policy_admin=18309
port_shoal_base=18310
port_shoal_base_admin=18311
port_refproxy=18312
port_shoal_disk=18313
port_shoal_disk_admin=18314

write_origin() {
  mkdir -p "$work/www/pass"
  head -c 1024 /dev/urandom >"$work/www/1k.bin"
  head -c 16384 /dev/urandom >"$work/www/16k.bin"
  head -c 262144 /dev/urandom >"$work/www/256k.bin"
  head -c 1048576 /dev/urandom >"$work/www/1m.bin"
  cp "$work/www/1k.bin" "$work/www/pass/1k.bin"
  # Any path that is not a file gets the 1 KiB body, so misses and fills need no files.
  # /_status counts the requests that reach the origin: run.sh uses it to prove hits are hits.
  cat >"$work/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; sendfile on; tcp_nopush on;
  default_type application/octet-stream;
  server { listen 127.0.0.1:$port_origin; root $work/www;
    location = /_status { stub_status; }
    location / { try_files \$uri /1k.bin; expires 1h; } } }
CONF
}

write_varnish() {
  # Cookies are dropped both ways so nothing keeps an object out of the cache; /pass/ passes.
  cat >"$work/varnish.vcl" <<VCL
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$port_origin"; }
sub vcl_recv {
  if (req.url ~ "^/pass/") { return (pass); }
  unset req.http.Cookie;
  unset req.http.Authorization;
  return (hash);
}
sub vcl_backend_response {
  if (bereq.url !~ "^/pass/") {
    unset beresp.http.Set-Cookie;
    set beresp.ttl = 1h;
  }
}
VCL
}

write_nginx() {
  # Bodies live in files under a tmpfs directory; keys in the shared keys_zone. No
  # tcp_nopush: with it, nginx's 256 KiB hits ran at half the req/s (10.8k against 19.7k,
  # 0.075 against 0.043 ms of CPU per response, two instances side by side in one run),
  # as bench-disk-peers.sh found for its hits.
  local keys_mib=$(((objects_total / 4000) + 16))
  # FULL_CACHE_MIB: max_size is enforced only by the cache manager, a process of the master,
  # which by default deletes 100 files per 50 ms (2,000/s); fills run faster than that, so it
  # may delete 10,000 per turn and the cache stays near its budget, not a few times over it.
  local master=off manager=""
  if [ -n "${full_mib:-}" ]; then master=on manager=" manager_files=10000 manager_sleep=10ms manager_threshold=1000ms"; fi
  cat >"$work/nginx.conf" <<CONF
daemon off; master_process $master; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; sendfile on; tcp_nopush off;
  proxy_cache_path $cache_dir keys_zone=c:${keys_mib}m max_size=${mem_mib}m inactive=1h use_temp_path=off$manager;
  upstream origin { server 127.0.0.1:$port_origin; keepalive 64; }
  server { listen 127.0.0.1:$port_nginx;
    proxy_http_version 1.1; proxy_set_header Connection "";
    location /pass/ { proxy_pass http://origin; }
    location / { proxy_pass http://origin; proxy_cache c; proxy_cache_valid 200 1h;
                 proxy_ignore_headers Set-Cookie; } } }
CONF
}

write_haproxy() {
  # total-max-size is in MiB and capped at 4095; max-object-size must stay under half of it.
  local total=$mem_mib
  [ "$total" -gt 4095 ] && total=4095
  cat >"$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 8000
  stats socket ipv4@127.0.0.1:$port_haproxy_cli level admin
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
cache c
  total-max-size $total
  max-object-size 2097152
  max-age 3600
frontend fe
  bind 127.0.0.1:$port_haproxy
  default_backend origin
backend origin
  http-reuse always
  http-request set-var(txn.pass) bool(true) if { path_beg /pass/ }
  http-request cache-use c unless { var(txn.pass) -m bool }
  http-response cache-store c unless { var(txn.pass) -m bool }
  server o 127.0.0.1:$port_origin maxconn 1000
CONF
}

write_shoal() {
  cat >"$work/shoal.yaml" <<CONF
node: {name: bench}
listen: {http: "127.0.0.1:$port_shoal", admin: "127.0.0.1:$port_shoal_admin"}
log: {access: "off", level: warn}
cache: {memory: ${mem_mib}MiB}
origins: {o: {servers: [{url: "http://127.0.0.1:$port_origin"}]}}
routes:
  - {match: {path_prefix: /pass/}, origin: o, cache: false}
  - {match: {path_prefix: /}, origin: o, cache: true}
CONF
}

write_shoal_disk() {
  # The like-for-like row of nginx's: Shoal's disk tier on the same tmpfs as nginx's
  # proxy_cache ($disk_dir beside $cache_dir) and a ram_cache_cutoff of 512 B, below every hit
  # body, so each hit object is written to the disk tier only and, being larger than the
  # cutoff (the most a disk hit copies back into memory), stays there: every hit is a disk hit
  # whose body is sent from a tmpfs file with sendfile(2), as nginx's are (edge/sendfile.go).
  # admit_frequency -1: the first fill is admitted, as nginx stores on the first miss.
  # cache.memory should hold nothing of these rows; a memory hit would show in run.sh's
  # per-run disk-hit count as NOT DISK HITS.
  cat >"$work/shoal-disk.yaml" <<CONF
node: {name: bench}
listen: {http: "127.0.0.1:$port_shoal_disk", admin: "127.0.0.1:$port_shoal_disk_admin"}
log: {access: "off", level: warn}
cache:
  memory: 64MiB
  max_object_size: 4MiB
  disk: {path: $disk_dir, size: 1GiB, admit_frequency: -1, ram_cache_cutoff: 512B}
origins: {o: {servers: [{url: "http://127.0.0.1:$port_origin"}]}}
routes:
  - {match: {path_prefix: /pass/}, origin: o, cache: false}
  - {match: {path_prefix: /}, origin: o, cache: true}
CONF
}

write_shoal_base() {
  # SHOAL_BASELINE=<binary>: another build of Shoal (an older commit) with write_shoal's
  # node and routes, so that a change's effect is a ratio within one run.
  sed -e "s/127.0.0.1:$port_shoal\"/127.0.0.1:$port_shoal_base\"/" \
    -e "s/127.0.0.1:$port_shoal_admin\"/127.0.0.1:$port_shoal_base_admin\"/" "$work/shoal.yaml" >"$work/shoal-base.yaml"
}

write_shoal_policy() {
  # SHOAL_POLICY=example: the same node and routes as write_shoal, plus what
  # examples/wordpress/shoal.yaml sets on its static files: node-wide defaults (tracking
  # parameters out of the key, 5 response field rules) that both routes inherit, and on the
  # cache route a TTL override and cookies stripped both ways. The hit rows then pay every
  # rule a cached answer meets; the ratio to "shoal" in the same run is the policy's cost.
  cat >"$work/shoal-policy.yaml" <<CONF
node: {name: bench}
listen: {http: "127.0.0.1:$port_shoal_policy", admin: "127.0.0.1:$port_shoal_policy_admin"}
log: {access: "off", level: warn}
cache: {memory: ${mem_mib}MiB}
origins: {o: {servers: [{url: "http://127.0.0.1:$port_origin"}]}}
policy:
  cache_key:
    ignore_params: ["utm_*", gclid, fbclid, msclkid, mc_cid, mc_eid, _ga]
  headers:
    response:
      set:
        Strict-Transport-Security: "max-age=31536000"
        X-Content-Type-Options: nosniff
        X-Frame-Options: SAMEORIGIN
        Referrer-Policy: strict-origin-when-cross-origin
      remove: [X-Powered-By]
routes:
  - {match: {path_prefix: /pass/}, origin: o, cache: false}
  - match: {path_prefix: /}
    origin: o
    cache: true
    ttl: {status: {200: 1d, 404: 1m}, override: true}
    cookies: {strip_request: true, strip_set_cookie: true}
CONF
}
