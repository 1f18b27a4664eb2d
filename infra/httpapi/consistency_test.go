package httpapi

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// fakeWaiter implements our Waiter port: it records calls and is "caught
// up" once its position reaches the one asked for.
type fakeWaiter struct {
	mu      sync.Mutex
	calls   []waitCall
	reached uint64
	fail    error
}

type waitCall struct {
	position uint64
	types    []string
}

func (f *fakeWaiter) Wait(ctx context.Context, position uint64, eventTypes []string) error {
	f.mu.Lock()
	f.calls = append(f.calls, waitCall{position, eventTypes})
	reached, fail := f.reached, f.fail
	f.mu.Unlock()
	if fail != nil {
		return fail
	}
	if reached >= position {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeWaiter) last() waitCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return waitCall{}
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeWaiter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func TestMinPosition(t *testing.T) {
	w8 := &fakeWaiter{reached: 50}
	s := newTestServer(t, func(c *Config) { c.Waiter = w8; c.ConsistencyTimeout = 150 * time.Millisecond })
	s.Engine().GET("/read", func(c *gin.Context) { Data(c, "r") })
	s.Engine().POST("/write", func(c *gin.Context) { NoContent(c) })

	// Caught up: answered at once.
	start := time.Now()
	w := s.do(req{path: "/read", headers: map[string]string{"X-Min-Position": "42"}})
	if w.Code != 200 || w8.last().position != 42 || w8.last().types != nil || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("caught up: %d, call %+v, %v", w.Code, w8.last(), time.Since(start))
	}
	// Behind: waits the bounded time, answers anyway, logs a warning.
	start = time.Now()
	w = s.do(req{path: "/read", headers: map[string]string{"X-Min-Position": "99", "X-Request-Id": "rid-slow"}})
	if took := time.Since(start); w.Code != 200 || took < 150*time.Millisecond || took > 2*time.Second {
		t.Fatalf("behind: %d after %v", w.Code, took)
	}
	warns := s.logs.find(t, "read models did not reach the position in time; answering anyway")
	if len(warns) != 1 || warns[0]["request_id"] != "rid-slow" || warns[0]["position"] != float64(99) {
		t.Fatalf("warning %v", warns)
	}
	// Invalid values are 400.
	for _, bad := range []string{"abc", "-1", "1.5", "18446744073709551616"} {
		wantError(t, s.do(req{path: "/read", headers: map[string]string{"X-Min-Position": bad}}), 400, "X-Min-Position must be a non-negative integer")
	}
	// Only reads wait; no header, no wait.
	n := w8.count()
	s.do(req{method: "POST", path: "/write", headers: map[string]string{"X-Min-Position": "99"}})
	s.do(req{path: "/read"})
	if w8.count() != n {
		t.Fatal("waited on a POST or without the header")
	}
	// A failing waiter does not fail the read.
	w8.mu.Lock()
	w8.fail = errors.New("projection runtime stopped")
	w8.mu.Unlock()
	if w := s.do(req{path: "/read", headers: map[string]string{"X-Min-Position": "1"}}); w.Code != 200 {
		t.Fatalf("failing waiter: %d", w.Code)
	}
}

func TestWritten(t *testing.T) {
	w8 := &fakeWaiter{reached: 10}
	s := newTestServer(t, func(c *Config) { c.ConsistencyTimeout = 100 * time.Millisecond })
	s.Engine().POST("/song/:pos", func(c *gin.Context) {
		pos := uint64(7)
		if c.Param("pos") == "late" {
			pos = 11
		}
		Written(c, w8, pos, []string{"SongAdded", "SongUpdated"})
		Data(c, "ok")
	})
	w := s.do(req{method: "POST", path: "/song/now"})
	if w.Code != 200 || w.Header().Get("X-Position") != "7" {
		t.Fatalf("%d X-Position %q", w.Code, w.Header().Get("X-Position"))
	}
	if c := w8.last(); c.position != 7 || len(c.types) != 2 || c.types[0] != "SongAdded" {
		t.Fatalf("wait call %+v", c)
	}
	start := time.Now()
	w = s.do(req{method: "POST", path: "/song/late"})
	if took := time.Since(start); w.Code != 200 || w.Header().Get("X-Position") != "11" || took < 100*time.Millisecond || took > 2*time.Second {
		t.Fatalf("late: %d %q after %v", w.Code, w.Header().Get("X-Position"), took)
	}
	// No waiter: the header alone.
	s.Engine().POST("/nowait", func(c *gin.Context) { Written(c, nil, 3, nil); NoContent(c) })
	if w := s.do(req{method: "POST", path: "/nowait"}); w.Code != 204 || w.Header().Get("X-Position") != "3" {
		t.Fatalf("no waiter: %d %q", w.Code, w.Header().Get("X-Position"))
	}
}
