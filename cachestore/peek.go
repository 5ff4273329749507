package cachestore

// Peek returns the object stored under key, like Get, without counting a hit or a miss: it is
// for a caller that decides how to serve a request and then looks the key up again through
// Get, or counts what it serves through CountHit (edge's HTTP/2 listener asks whether a
// request is a fresh hit before it runs the pipeline). It does not count for the eviction
// policy either: the Get or CountHit that follows does.
func (m *Memory) Peek(key string) (*Object, bool) {
	o := m.tab.get(key)
	return o, o != nil
}
