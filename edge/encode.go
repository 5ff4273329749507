package edge

import (
	"strings"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/compress"
	"github.com/shoal-cdn/shoal/httpcache"
)

// compressible reports whether responses built from h vary by Accept-Encoding here: the
// node compresses this type, the origin did not encode it already, it is large enough and
// the origin did not forbid transformation.
func compressible(rt *settings, status int, h httpcache.HeaderView, length int64, noTransform bool) bool {
	if rt.compressor == nil || status != 200 {
		return false
	}
	c := rt.cfg.Compression
	return compress.Compressible(h.Get("Content-Type"), c.Types, h.Get("Content-Encoding"), length, int64(c.MinSize), noTransform)
}

// variantFor picks what to send for a stored object: the compressed variant the client
// accepts (made now, once, and stored beside the identity object when missing), or the
// identity object. It sets l.varyEncoding when the choice depends on Accept-Encoding.
func (p *pipeline) variantFor(l *lookup, obj *cachestore.Object) *cachestore.Object {
	meta := obj.Meta
	if !compressible(l.rt, int(obj.Status), obj.Header.View(), int64(len(obj.Body)), meta.NoTransform()) {
		return obj
	}
	l.varyEncoding = true
	enc := compress.Negotiate(l.req.Header.List("Accept-Encoding"), l.rt.encodings)
	if enc == compress.Identity {
		return obj
	}
	key := obj.Key + compress.VariantKey(enc)
	// A variant belongs to one fill of the identity object: a refreshed object gets a new one.
	if v, ok := p.store.Get(key); ok && v.ResponseTime == obj.ResponseTime && !v.SoftPurged() {
		p.metrics.compressedHits.WithLabelValues(string(enc)).Inc()
		return v
	}
	made, err, _ := p.compressing.Do(key, func() (any, error) {
		return p.makeVariant(l.rt, obj, enc, key)
	})
	if err != nil {
		p.log.Warn("compression failed; serving identity", "encoding", enc, "err", err)
		return obj
	}
	return made.(*cachestore.Object)
}

// makeVariant compresses the identity body once and stores the result under the same URL,
// so that purging the URL removes every encoding of it.
func (p *pipeline) makeVariant(rt *settings, obj *cachestore.Object, enc compress.Encoding, key string) (*cachestore.Object, error) {
	body, err := rt.compressor.Compress(enc, obj.Body)
	if err != nil {
		return nil, err
	}
	// The head a streamed coded miss sends (codedHead): the variant a hit serves must answer
	// the validators that miss handed out.
	h := codedHead(obj.Header.Header(), enc)
	addVary(&h, "Accept-Encoding")
	v := &cachestore.Object{Key: key, URL: obj.URL, Status: obj.Status, Header: httpcache.Pack(h), Body: body,
		RequestTime: obj.RequestTime, ResponseTime: obj.ResponseTime, Generation: obj.Generation,
		Tags: obj.Tags, Meta: obj.Meta}
	v.Compact()
	p.store.Set(v)
	p.metrics.compressed.WithLabelValues(string(enc)).Inc()
	p.metrics.compressedSaved.Add(float64(len(obj.Body) - len(body)))
	return v, nil
}

// codedETag is the ETag of the representation coded in enc of one whose ETag is etag, the
// one answer for a streamed coded miss (markCoded, codedHead) and the stored variant a hit
// serves (makeVariant). A strong one names another representation (RFC 9110 section 8.8.3:
// "abc" becomes "abc-gzip"); a weak one is kept: it names content that is semantically the
// same (section 8.8.1), which a content coding keeps, as nginx's gzip filter keeps it. With
// one function, a client's If-None-Match (weak comparison, section 13.1.2) that matched the
// miss matches the hit.
func codedETag(etag string, enc compress.Encoding) string {
	if strings.HasPrefix(etag, "W/") {
		return etag
	}
	if i := strings.LastIndexByte(etag, '"'); i > 0 {
		return etag[:i] + "-" + string(enc) + etag[i:]
	}
	return etag
}

// addVary adds name to the Vary field unless it is there already.
func addVary(h *httpcache.Header, name string) {
	for _, v := range h.Values("Vary") {
		for _, part := range strings.Split(v, ",") {
			if p := trimOWSString(part); p == "*" || strings.EqualFold(p, name) {
				return
			}
		}
	}
	if v := h.List("Vary"); v != "" {
		// Every line's names in one line: Set replaces all the lines (RFC 9110 section 5.3).
		h.Set("Vary", v+", "+name)
		return
	}
	h.Add("Vary", name)
}
