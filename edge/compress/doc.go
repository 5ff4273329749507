// Package compress is the pure part of response compression: which coding a client gets
// (Negotiate), which responses are worth compressing (Compressible), the compressors
// themselves (gzip and zstd from klauspost/compress; brotli, RFC 7932, from
// molecule-man/go-brrr, the brotli library fasthttp already links) and the cache-key fragment
// that keeps each coded variant of a URL apart (VariantKey). It does no HTTP and holds no
// global state.
//
// Concurrency: Negotiate, Compressible and VariantKey are pure functions. A Compressor is safe
// for concurrent use by any number of goroutines; the writers NewWriter returns are not and
// belong to the one response they were made for.
package compress
