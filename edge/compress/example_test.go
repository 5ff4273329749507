package compress_test

import (
	"fmt"

	"github.com/shoal-cdn/shoal/edge/compress"
)

func Example() {
	offered := []compress.Encoding{compress.Zstd, compress.Gzip}
	enc := compress.Negotiate("gzip, deflate, br", offered)
	body := []byte("<html>" + string(make([]byte, 4096)) + "</html>")
	if compress.Compressible("text/html; charset=utf-8", []string{"text/*"}, "", int64(len(body)), 256, false) {
		c := compress.New(6)
		coded, err := c.Compress(enc, body)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s, smaller: %v, key suffix %q\n", enc, len(coded) < len(body), compress.VariantKey(enc))
	}
	// Output: gzip, smaller: true, key suffix "\x00enc:gzip"
}
