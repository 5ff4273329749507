# Sourced by bench-disk-peers.sh and profile-disk-hit.sh: the disk-hit set-up they share.
# Ports (fixed: take the bench lock), then start_disk_servers DIR BIN: in DIR, a 256 KiB, a
# 512 KiB (the cork threshold's neighbourhood) and a 1 MiB file for an nginx origin, a
# self-signed certificate, nginx proxy_cache (HTTP/1.1, TLS with h2, h2c) and Shoal (BIN, cache.memory 16 MiB, a 1 GiB disk tier under DIR) on core 0,
# started and ready. It appends their pids to pids and sets nginx_pid and shoal_pid.
# NGINX_NOPUSH: nginx's tcp_nopush (default off); NGINX_OPEN_FILE_CACHE: nginx's open_file_cache
# line (default max=10000 inactive=20s, with open_file_cache_valid 30s and min_uses 2, the
# values of nginx's documentation with max above any working set here: a cache hit then
# opens, stats and closes no file, as in production; "off" to compare);
# RAM_CACHE_CUTOFF: cache.disk.ram_cache_cutoff;
# SEGMENT_SIZE: cache.disk.segment_size (default size/16, 64 MiB);
# SHOAL_BASE: a baseline binary, started beside BIN with the same configuration on ports
# 18412-18417 and its own disk directory (base_pid).
port_origin=18400 port_nginx=18401 port_shoal=18402 port_admin=18403
port_nginx_tls=18404 port_nginx_h2c=18405 port_shoal_tls=18406 port_shoal_h2c=18407
port_base=18412 port_base_admin=18413 port_base_tls=18416 port_base_h2c=18417

start_disk_servers() { # dir bin
	local dir=$1 bin=$2
	mkdir -p "$dir/www" "$dir/ngx-cache" "$dir/shoal-disk"
	head -c 262144 /dev/urandom >"$dir/www/256k.bin"
	head -c 524288 /dev/urandom >"$dir/www/512k.bin"
	head -c 1048576 /dev/urandom >"$dir/www/1m.bin"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
	cat >"$dir/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $dir/origin.pid; error_log $dir/origin.err;
events { worker_connections 4096; }
http { access_log off; sendfile on; default_type application/octet-stream;
  server { listen 127.0.0.1:$port_origin; root $dir/www;
    location /256k/ { try_files /256k.bin =404; expires 1h; }
    location /512k/ { try_files /512k.bin =404; expires 1h; }
    location /1m/ { try_files /1m.bin =404; expires 1h; } } }
CONF
	cat >"$dir/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $dir/nginx.pid; error_log $dir/nginx.err;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush ${NGINX_NOPUSH:-off};
  open_file_cache ${NGINX_OPEN_FILE_CACHE:-max=10000 inactive=20s}; open_file_cache_valid 30s; open_file_cache_min_uses 2;
  proxy_cache_path $dir/ngx-cache levels=1:2 keys_zone=z:16m max_size=1g inactive=1h use_temp_path=off;
  server { listen 127.0.0.1:$port_nginx; listen 127.0.0.1:$port_nginx_tls ssl http2;
    listen 127.0.0.1:$port_nginx_h2c http2;
    ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
    location / { proxy_pass http://127.0.0.1:$port_origin; proxy_cache z; proxy_cache_valid 200 1h;
      proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
	cat >"$dir/shoal.yaml" <<CONF
node: {name: bench}
listen: {http: "127.0.0.1:$port_shoal", https: "127.0.0.1:$port_shoal_tls", h2c: "127.0.0.1:$port_shoal_h2c", admin: "127.0.0.1:$port_admin"}
tls: {certificates: [{cert: $dir/cert.pem, key: $dir/key.pem}]}
log: {access: "off", level: warn}
cache:
  memory: 16MiB
  max_object_size: 4MiB
  disk: {path: $dir/shoal-disk, size: 1GiB, admit_frequency: -1${RAM_CACHE_CUTOFF:+, ram_cache_cutoff: $RAM_CACHE_CUTOFF}${SEGMENT_SIZE:+, segment_size: $SEGMENT_SIZE}}
origins: {o: {servers: [{url: "http://127.0.0.1:$port_origin"}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
CONF
	taskset -c 0 nginx -c "$dir/origin.conf" -p "$dir" & pids+=($!)
	taskset -c 0 nginx -c "$dir/nginx.conf" -p "$dir" & pids+=($!)
	nginx_pid=$!
	start_shoal "$dir/shoal.yaml" "$bin" "$port_admin"
	shoal_pid=$!
	if [ -n "${SHOAL_BASE:-}" ]; then
		# The baseline: the same configuration on its own ports and disk directory.
		mkdir -p "$dir/base-disk"
		sed -e "s/:$port_shoal\"/:$port_base\"/; s/:$port_admin\"/:$port_base_admin\"/" \
			-e "s/:$port_shoal_tls\"/:$port_base_tls\"/; s/:$port_shoal_h2c\"/:$port_base_h2c\"/" \
			-e "s#$dir/shoal-disk#$dir/base-disk#" "$dir/shoal.yaml" >"$dir/base.yaml"
		start_shoal "$dir/base.yaml" "$SHOAL_BASE" "$port_base_admin"
		base_pid=$!
	fi
}

start_shoal() { # config bin admin-port: on core 0, returns once its disk tier is ready
	GOMAXPROCS=1 taskset -c 0 "$2" run -c "$1" 2>"${1%.yaml}.err" & pids+=($!)
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$3/readyz" >/dev/null && break; sleep 0.1; done
	for _ in $(seq 100); do curl -s "http://127.0.0.1:$3/stats.json" | grep -q '"state": "ready"' && break; sleep 0.1; done
}
