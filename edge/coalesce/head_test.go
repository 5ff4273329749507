package coalesce

import (
	"errors"
	"testing"
	"time"
)

// The head's channel is made only when asked for (HeadReady), so every way a head can end
// must still close it, whether it was asked for before or after: SetHead, Finish without a
// head, Abort. Head and HeadDone agree with it.
func TestCall_headReadyClosesHoweverTheHeadEnds(t *testing.T) {
	boom := errors.New("boom")
	ends := map[string]func(c *Call[string]){
		"set head":       func(c *Call[string]) { c.SetHead("h") },
		"finish failing": func(c *Call[string]) { c.Finish(boom) },
		"abort":          func(c *Call[string]) { c.Abort(boom) },
	}
	for name, end := range ends {
		for _, asked := range []string{"before", "after"} {
			t.Run(name+"/asked "+asked, func(t *testing.T) {
				var g Group[string]
				c, r, leader := g.Join("k", Options{})
				defer r.Close()
				if !leader {
					t.Fatal("the first Join must lead")
				}
				if c.HeadDone() {
					t.Fatal("HeadDone before the head")
				}
				var ready <-chan struct{}
				if asked == "before" {
					ready = c.HeadReady()
					select {
					case <-ready:
						t.Fatal("HeadReady closed before the head")
					default:
					}
				}
				end(c)
				if asked == "after" {
					ready = c.HeadReady()
				}
				select {
				case <-ready:
				case <-time.After(5 * time.Second):
					t.Fatal("HeadReady not closed after the head ended")
				}
				if !c.HeadDone() {
					t.Error("HeadDone false after the head ended")
				}
				h, err := c.Head()
				if name == "set head" && (err != nil || h != "h") {
					t.Errorf("Head = %q, %v; want h, nil", h, err)
				}
				if name != "set head" && !errors.Is(err, boom) {
					t.Errorf("Head error = %v; want %v", err, boom)
				}
			})
		}
	}
}

// A follower waiting in Head is woken by the leader's SetHead (Head waits on the Call's
// condition, not on a channel).
func TestCall_headWaitsForTheLeader(t *testing.T) {
	var g Group[string]
	c, r, _ := g.Join("k", Options{})
	defer r.Close()
	_, fr, leader := g.Join("k", Options{})
	defer fr.Close()
	if leader {
		t.Fatal("the second Join must follow")
	}
	got := make(chan string, 1)
	go func() {
		h, _ := c.Head()
		got <- h
	}()
	time.Sleep(10 * time.Millisecond)
	c.SetHead("h")
	select {
	case h := <-got:
		if h != "h" {
			t.Errorf("Head = %q, want h", h)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Head still waiting after SetHead")
	}
	c.Finish(nil)
}
