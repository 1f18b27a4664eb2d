package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is a closed-loop load: clients goroutines each run do back to
// back; requests answered during warmup are not recorded.
type loadSpec struct {
	name     string
	clients  int
	warmup   time.Duration
	duration time.Duration
	// do runs one request of client c (its i-th); an error counts as a
	// failed request, excluded from throughput and latency.
	do func(ctx context.Context, c, i int) error
	// during, when set, runs once the measured window opens (profiles,
	// probes) and must return by the end of ctx.
	during func(ctx context.Context)
}

// loadResult is what a load measured in its window.
type loadResult struct {
	ok, failed int
	firstErr   error
	window     time.Duration
	latencies  latencies // of the successful requests, sorted
}

func (r loadResult) rps() float64 { return float64(r.ok) / r.window.Seconds() }

// latencies are sorted samples: with at most a few hundred thousand per
// window, keeping them all is simpler and exact where an HDR histogram
// would round.
type latencies []time.Duration

// quantile is the nearest-rank q-quantile (0 < q <= 1), in milliseconds.
func (l latencies) quantile(q float64) float64 {
	if len(l) == 0 {
		return 0
	}
	rank := int(q*float64(len(l))+0.999999) - 1
	rank = min(max(rank, 0), len(l)-1)
	return float64(l[rank].Microseconds()) / 1000
}

func runLoad(ctx context.Context, s loadSpec) (loadResult, error) {
	start := time.Now()
	measureFrom := start.Add(s.warmup)
	end := measureFrom.Add(s.duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	var (
		mu       sync.Mutex
		all      latencies
		failed   atomic.Int64
		firstErr atomic.Value
		wg       sync.WaitGroup
	)
	for c := range s.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make(latencies, 0, 4096)
			var localFailed int64
			for i := 0; ; i++ {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				err := s.do(ctx, c, i)
				t1 := time.Now()
				if ctx.Err() != nil && t1.After(end) {
					break // cut by the deadline: neither a success nor a failure
				}
				if t0.Before(measureFrom) || t1.After(end) {
					continue
				}
				if err != nil {
					localFailed++
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				local = append(local, t1.Sub(t0))
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
			failed.Add(localFailed)
		}()
	}
	if s.during != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(time.Until(measureFrom)):
				s.during(ctx)
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil && time.Now().Before(end) {
		return loadResult{}, fmt.Errorf("%s: %w", s.name, ctx.Err())
	}
	slices.Sort(all)
	r := loadResult{ok: len(all), failed: int(failed.Load()), window: s.duration, latencies: all}
	if e, ok := firstErr.Load().(error); ok {
		r.firstErr = e
	}
	return r, nil
}

// check refuses a load whose failures would make its figures meaningless.
func (r loadResult) check(name string) error {
	if r.ok == 0 {
		return fmt.Errorf("%s: no request succeeded (first error: %v)", name, r.firstErr)
	}
	if r.failed > r.ok/100 {
		return fmt.Errorf("%s: %d of %d requests failed (first error: %v)", name, r.failed, r.ok+r.failed, r.firstErr)
	}
	return nil
}
