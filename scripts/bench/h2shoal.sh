# Sourced by bench-h2.sh and profile-h2.sh: write_h2_shoal writes $work/shoal.yaml, the Shoal
# node both load over HTTP/2 (TLS on $port_shoal with $work's certificate, admin on
# $port_shoal_admin, a 256 MiB cache in front of the nginx origin on $port_origin), so the
# profile looks at the node the benchmark measures.
write_h2_shoal() {
  cat >"$work/shoal.yaml" <<CONF
node: {name: bench}
listen: {https: "127.0.0.1:$port_shoal", admin: "127.0.0.1:$port_shoal_admin"}
log: {access: "off", level: warn}
cache: {memory: 256MiB}
tls: {certificates: [{cert: $work/cert.pem, key: $work/key.pem}]}
origins: {o: {servers: [{url: "http://127.0.0.1:$port_origin"}]}}
routes:
  - {match: {path_prefix: /}, origin: o, cache: true}
CONF
}
