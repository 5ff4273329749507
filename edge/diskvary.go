package edge

import (
	"strings"

	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/httpcache"
)

// diskVariant finds on disk the variant a request selects when memory knows no Vary for its
// URL: after a restart memory's Vary records are gone, while the variants are on disk under
// "<url>\x00<secondary key>" (RFC 9111 section 4.1). Nothing extra is persisted: the Vary
// names are read from the head of one of the URL's variants (a B-tree seek in the disk
// index), memory's Vary record is restored from them, and l is narrowed to the variant this
// request selects. It returns disk.ErrNotFound when the URL has no variant on disk or the
// request selects none.
//
// Compressed copies (compress.VariantKey, "\x00enc:") are skipped: their Vary is the
// node's Accept-Encoding, not the origin's.
func (p *pipeline) diskVariant(x *exchange, l *lookup) (*disk.Handle, error) {
	prefix := l.url + "\x00"
	for _, k := range p.disk.d.KeysWithPrefix(prefix, 8) {
		if strings.Contains(k[len(l.url):], "\x00enc:") {
			continue
		}
		h, err := p.disk.d.Get(k)
		if err != nil {
			continue
		}
		_, header, err := decodeHead(h.Head)
		h.Close()
		if err != nil {
			continue
		}
		names := httpcache.VaryNames(header)
		if len(names) == 0 || containsStar(names) {
			continue
		}
		p.store.SetVary(l.url, names)
		l.vary = names
		l.req.Header = requestView(x.req, names)
		sk, ok := httpcache.SecondaryKey(names, l.req.Header)
		if !ok {
			return nil, disk.ErrNotFound
		}
		l.key = l.url + "\x00" + sk
		return p.disk.d.Get(l.key)
	}
	return nil, disk.ErrNotFound
}
