package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func addedSong(t *testing.T) *Song {
	t.Helper()
	s := NewSong(idA)
	title := "Nơi này có anh"
	if err := s.Add(SongFields{Title: &title}, []string{idB}); err != nil {
		t.Fatal(err)
	}
	return s
}

// replay rebuilds a song from the events it recorded, as a Load does.
func replay(t *testing.T, s *Song) *Song {
	t.Helper()
	fresh := NewSong(s.ID)
	for i, e := range s.Changes() {
		fresh.Replay(fresh, e, uint64(i))
	}
	return fresh
}

func TestGrantUploadRateLimit(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		grants  []time.Duration // offsets from t0 of earlier grants
		at      time.Duration
		limited bool
	}{
		{"first grant", nil, 0, false},
		{"29 in the window", repeat(29, 0), time.Minute, false},
		{"30 in the window refuse the 31st", repeat(30, 0), 14 * time.Minute, true},
		{"30 spread over the window refuse the next", spread(30, 30*time.Second), 15*time.Minute - time.Second, true},
		{"the oldest expired frees one", spread(30, 30*time.Second), 15 * time.Minute, false},
		{"all expired", repeat(30, 0), UploadGrantWindow, false},
		{"many old grants do not count", append(repeat(30, 0), repeat(29, time.Hour)...), time.Hour + time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := addedSong(t)
			for _, off := range tc.grants {
				if _, err := s.GrantUpload(t0.Add(off)); err != nil {
					t.Fatalf("earlier grant at %v: %v", off, err)
				}
			}
			s = replay(t, s) // the limit must hold for a loaded aggregate too
			exp, err := s.GrantUpload(t0.Add(tc.at))
			if tc.limited {
				if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "at most 30 every 15 minutes") {
					t.Fatalf("err = %v, want a rate limit", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := t0.Add(tc.at).Add(UploadGrantWindow); !exp.Equal(want) {
				t.Fatalf("expires %v, want %v", exp, want)
			}
			last := s.Changes()[len(s.Changes())-1]
			if g, ok := last.(AudioUploadGranted); !ok || g.SongID != idA || !g.ExpiresAt.Equal(exp) {
				t.Fatalf("recorded %#v", last)
			}
		})
	}
}

func repeat(n int, off time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = off
	}
	return out
}

func spread(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * step
	}
	return out
}

func TestGrantUploadNeedsASong(t *testing.T) {
	now := time.Now()
	if _, err := NewSong(idA).GrantUpload(now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown song: %v", err)
	}
	s := addedSong(t)
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GrantUpload(now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted song: %v", err)
	}
}
