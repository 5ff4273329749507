package cachestore

import (
	"testing"
	"time"
)

// PurgedSince is the question a node asks of a copy a peer sent: did a purge applied here
// since the peer's fill began match it? Every kind and mode counts; purges older than since,
// or matching other objects, do not; a log that forgot purges newer than since cannot tell.
func TestMemory_PurgedSince(t *testing.T) {
	o := object("http://h/img/a.png", "", "t1")
	tests := []struct {
		name  string
		purge func(m *Memory)
		want  bool
	}{
		{"no purge", func(*Memory) {}, false},
		{"url", func(m *Memory) { m.PurgeURL("http://h/img/a.png", false) }, true},
		{"url, soft", func(m *Memory) { m.PurgeURL("http://h/img/a.png", true) }, true},
		{"prefix", func(m *Memory) { m.PurgePrefix("http://h/img/", false) }, true},
		{"tag, soft", func(m *Memory) { m.PurgeTag("t1", true) }, true},
		{"all", func(m *Memory) { m.PurgeAll(false) }, true},
		{"another url", func(m *Memory) { m.PurgeURL("http://h/img/b.png", false) }, false},
		{"another tag, then the url long ago", func(m *Memory) { m.PurgeTag("t9", false) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMemory(t, Config{})
			m.PurgeURL("http://h/img/a.png", false) // before since: never counts
			time.Sleep(time.Millisecond)
			since := time.Now()
			tt.purge(m)
			if got := m.PurgedSince(o, since); got != tt.want {
				t.Errorf("PurgedSince = %v, want %v", got, tt.want)
			}
			if m.PurgedSince(o, time.Now().Add(time.Millisecond)) {
				t.Error("a purge older than since counted")
			}
		})
	}
}

func TestMemory_PurgedSinceBeyondTheLog(t *testing.T) {
	m := newTestMemory(t, Config{})
	o := object("http://h/a", "")
	since := time.Now()
	for range purgeLogSize + 1 {
		m.PurgeURL("http://h/other", false)
	}
	if !m.PurgedSince(o, since) {
		t.Error("a log that forgot purges newer than since answered that none matched")
	}
	if m.PurgedSince(o, time.Now().Add(time.Millisecond)) {
		t.Error("a since newer than every purge was refused")
	}
}
