package compress

// VariantKey is the fragment the cache appends to an object's key for a coded variant, so the
// identity, gzip and zstd bodies of one URL are stored as separate objects. Identity adds
// nothing, so an uncompressed object keeps the key it would have without compression.
//
// The fragment starts with a NUL byte, which never occurs in a primary key, and its "enc:"
// label cannot be mistaken for a Vary secondary key (whose header names are followed by '=' or
// '!'), so appending it after either is unambiguous. Only the key changes: the variants share
// the object's URL, so a URL or prefix purge removes them together.
func VariantKey(enc Encoding) string {
	if enc == Identity {
		return ""
	}
	return "\x00enc:" + string(enc)
}
