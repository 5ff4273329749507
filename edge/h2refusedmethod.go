package edge

// h2RefusedWhateverItsContent tells h2Body that handle refuses a request of this method
// before it looks at any content (handler.go: a method that is not a token or has a
// lowercase letter, CONNECT, TRACE), so the answer is sent without waiting for the content
// first. An HTTP/2 CONNECT opens a tunnel (RFC 9113 section 8.5): its stream stays open and its client waits for the
// answer before sending anything, so waiting for the content held the 405 until
// limits.read_timeout and then reset the stream instead. HTTP/1.1's CONNECT is answered at
// once, as nginx answers both.
func h2RefusedWhateverItsContent(method string) bool {
	return method == "CONNECT" || method == "TRACE" || !validToken([]byte(method)) || hasLower([]byte(method))
}
