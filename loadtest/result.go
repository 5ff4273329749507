package loadtest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// Result is the outcome of one request. Its JSON form is vegeta's result line, field for field,
// so `vegeta report` can read our output and we can read vegeta's.
type Result struct {
	Attack string `json:"attack"`
	Seq    uint64 `json:"seq"`
	// Code is the HTTP status, 0 when no response arrived. DNS results map rcodes onto HTTP
	// codes (see DNSHitter) so one report format serves both.
	Code uint16 `json:"code"`
	// Timestamp is when the request was due: the scheduled instant in open-loop attacks.
	Timestamp time.Time `json:"timestamp"`
	// Latency runs from Timestamp to the end of the response, so queueing delay counts.
	Latency  time.Duration `json:"latency"`
	BytesOut uint64        `json:"bytes_out"`
	BytesIn  uint64        `json:"bytes_in"`
	Error    string        `json:"error"`
	Body     []byte        `json:"body"`
	Method   string        `json:"method"`
	URL      string        `json:"url"`
	Headers  http.Header   `json:"headers"`
}

// End is when the response finished.
func (r *Result) End() time.Time { return r.Timestamp.Add(r.Latency) }

// ResultEncoder writes results as JSON lines. It buffers; call Flush when done.
// It is not safe for concurrent use.
type ResultEncoder struct {
	w   *bufio.Writer
	buf []byte
}

// NewResultEncoder returns an encoder writing to w.
func NewResultEncoder(w io.Writer) *ResultEncoder {
	return &ResultEncoder{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 1024)}
}

// Encode appends one result line. Hand-written rather than encoding/json because a
// closed-loop attack emits a line per request and reflection would cost the attacker CPU.
func (e *ResultEncoder) Encode(r *Result) error {
	b := e.buf[:0]
	b = append(b, `{"attack":`...)
	b = appendJSONString(b, r.Attack)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"code":`...)
	b = strconv.AppendUint(b, uint64(r.Code), 10)
	b = append(b, `,"timestamp":"`...)
	b = r.Timestamp.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","latency":`...)
	b = strconv.AppendInt(b, int64(r.Latency), 10)
	b = append(b, `,"bytes_out":`...)
	b = strconv.AppendUint(b, r.BytesOut, 10)
	b = append(b, `,"bytes_in":`...)
	b = strconv.AppendUint(b, r.BytesIn, 10)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, r.Error)
	b = append(b, `,"body":"`...)
	b = base64.StdEncoding.AppendEncode(b, r.Body)
	b = append(b, `","method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, r.URL)
	// vegeta's decoder insists on a headers object, so an empty one is written, never null.
	b = append(b, `,"headers":{`...)
	first := true
	for name, values := range r.Headers {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, name)
		b = append(b, ":["...)
		for i, v := range values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	b = append(b, "}}\n"...)
	e.buf = b
	if _, err := e.w.Write(b); err != nil {
		return fmt.Errorf("results: write: %w", err)
	}
	return nil
}

// Flush writes buffered lines to the underlying writer.
func (e *ResultEncoder) Flush() error {
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("results: flush: %w", err)
	}
	return nil
}

// appendJSONString quotes s as a JSON string. Header values come from the network and may hold
// invalid UTF-8; those bytes become U+FFFD, as encoding/json does, so the line stays valid JSON.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// maxResultLine bounds one JSON line (bodies are base64 inside it) so a corrupt file cannot
// exhaust memory.
const maxResultLine = 64 << 20

// ResultDecoder reads JSON-lines results, ours or vegeta's. Not safe for concurrent use.
type ResultDecoder struct {
	r      *bufio.Reader
	lineNo int
}

// NewResultDecoder returns a decoder reading from r.
func NewResultDecoder(r io.Reader) *ResultDecoder {
	return &ResultDecoder{r: bufio.NewReaderSize(r, 64<<10)}
}

// Decode reads the next result into res, returning io.EOF after the last one. Blank lines are
// skipped; a malformed line is an error naming its line number.
func (d *ResultDecoder) Decode(res *Result) error {
	for {
		line, err := d.readLine()
		if len(bytes.TrimSpace(line)) > 0 {
			*res = Result{}
			if jerr := json.Unmarshal(line, res); jerr != nil {
				return fmt.Errorf("results: line %d: %w", d.lineNo, jerr)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (d *ResultDecoder) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := d.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxResultLine {
			return nil, fmt.Errorf("results: line %d: longer than %d bytes", d.lineNo+1, maxResultLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 0 {
			d.lineNo++
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return line, fmt.Errorf("results: read: %w", err)
		}
		return line, err
	}
}
