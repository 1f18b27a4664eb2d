package domain

import (
	"encoding/json"
	"testing"
	"time"
)

func TestListenRepeatWindow(t *testing.T) {
	t0 := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	type play struct {
		song   string
		after  time.Duration // since t0
		record bool
	}
	for _, tc := range []struct {
		name  string
		plays []play
	}{
		{"first play counts", []play{{"a", 0, true}}},
		{"same song at once is one listen", []play{{"a", 0, true}, {"a", 0, false}}},
		{"same song 29.999s later is one listen", []play{{"a", 0, true}, {"a", 30*time.Second - time.Millisecond, false}}},
		{"same song 30s later is a new listen", []play{{"a", 0, true}, {"a", 30 * time.Second, true}}},
		{"the window runs from the last counted play", []play{{"a", 0, true}, {"a", 20 * time.Second, false}, {"a", 31 * time.Second, true}}},
		{"other songs do not interfere", []play{{"a", 0, true}, {"b", time.Second, true}, {"a", 2 * time.Second, false}, {"b", 3 * time.Second, false}}},
		{"a clock gone back is still within the window", []play{{"a", time.Minute, true}, {"a", 0, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewListening("u")
			for i, p := range tc.plays {
				got, err := l.Listen(p.song, t0.Add(p.after))
				if err != nil {
					t.Fatal(err)
				}
				if got != p.record {
					t.Fatalf("play %d (%s at +%v): recorded %v, want %v", i, p.song, p.after, got, p.record)
				}
			}
			want := 0
			for _, p := range tc.plays {
				if p.record {
					want++
				}
			}
			if n := len(l.Changes()); n != want {
				t.Fatalf("%d events, want %d", n, want)
			}
		})
	}
}

func TestListenInstantsStrictlyIncrease(t *testing.T) {
	l := NewListening("u")
	at := time.Date(2026, 3, 8, 20, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	for _, song := range []string{"a", "b", "c"} {
		if ok, err := l.Listen(song, at); err != nil || !ok {
			t.Fatalf("listen %s: %v %v", song, ok, err)
		}
	}
	var prev time.Time
	for i, e := range l.Changes() {
		lr := e.(ListenRecorded)
		if lr.ListenedAt.Location() != time.UTC || lr.ListenedAt.Nanosecond()%1000 != 0 {
			t.Fatalf("event %d: %v is not UTC microseconds", i, lr.ListenedAt)
		}
		if i > 0 && !lr.ListenedAt.After(prev) {
			t.Fatalf("event %d at %v is not after %v", i, lr.ListenedAt, prev)
		}
		prev = lr.ListenedAt
	}
	if first := l.Changes()[0].(ListenRecorded).ListenedAt; !first.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("first play at %v, want %v", first, at)
	}
}

func TestListeningReplaysItsTail(t *testing.T) {
	t0 := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	l := NewListening("u")
	l.Replay(l, ListenRecorded{UserID: "u", SongID: "a", ListenedAt: t0}, 41)
	l.Replay(l, ListenRecorded{UserID: "u", SongID: "b", ListenedAt: t0.Add(10 * time.Second)}, 42)
	if l.Version() != 42 {
		t.Fatalf("version %d", l.Version())
	}
	if ok, _ := l.Listen("a", t0.Add(25*time.Second)); ok {
		t.Fatal("a repeat within the window of a replayed play was counted")
	}
	// The clock says 5s, the stream's last play was at 10s: the new play
	// lands just after it.
	if ok, _ := l.Listen("c", t0.Add(5*time.Second)); !ok {
		t.Fatal("a new song was not counted")
	}
	got := l.Changes()[0].(ListenRecorded).ListenedAt
	if want := t0.Add(10*time.Second + time.Microsecond); !got.Equal(want) {
		t.Fatalf("listened_at %v, want %v", got, want)
	}
	if _, err := l.Listen("", t0); err == nil {
		t.Fatal("an empty song id was accepted")
	}
}

func TestListenRecordedWireShape(t *testing.T) {
	e := ListenRecorded{UserID: "u", SongID: "s", ListenedAt: time.Date(2026, 3, 8, 20, 0, 0, 5000, time.UTC)}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"user_id":"u","song_id":"s","listened_at":"2026-03-08T20:00:00.000005Z"}`; string(raw) != want {
		t.Fatalf("%s, want %s", raw, want)
	}
	back, err := DecodeEvent("ListenRecorded", raw)
	if err != nil || back.(ListenRecorded) != e {
		t.Fatalf("round trip: %v %v", back, err)
	}
}

func TestFollowAndUnfollow(t *testing.T) {
	u := NewUser("u")
	if err := u.Follow("a"); err == nil {
		t.Fatal("a user who does not exist followed an artist")
	}
	if err := u.Register("Lan", "", "", RoleUser, "password"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		follow bool
		artist string
		events int // total recorded after the step
	}{
		{true, "a", 2}, {true, "a", 2}, {true, "b", 3}, {false, "a", 4}, {false, "a", 4}, {false, "zzz", 4},
	} {
		var err error
		if step.follow {
			err = u.Follow(step.artist)
		} else {
			err = u.Unfollow(step.artist)
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := len(u.Changes()); n != step.events {
			t.Fatalf("after %v %s: %d events, want %d", step.follow, step.artist, n, step.events)
		}
	}
	if got := u.FollowedArtists(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("following %v", got)
	}
	// Replaying the recorded events rebuilds the same set.
	v := NewUser("u")
	for i, e := range u.Changes() {
		v.Replay(v, e, uint64(i))
	}
	if got := v.FollowedArtists(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("replayed following %v", got)
	}
}

// A restored aggregate decides as the replayed one, and what Tail handed
// out, or the tail it was restored from, never changes under anyone.
func TestRestoreListeningDecidesAsReplayAndSharesNothing(t *testing.T) {
	at := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	tail := []ListenRecorded{
		{UserID: "u", SongID: "a", ListenedAt: at},
		{UserID: "u", SongID: "b", ListenedAt: at.Add(10 * time.Second)},
	}
	replayed := NewListening("u").replayOf(tail)
	restored := RestoreListening("u", tail, 1)
	if restored.Version() != replayed.Version() {
		t.Fatalf("version %d, replayed %d", restored.Version(), replayed.Version())
	}
	for _, c := range []struct {
		song string
		at   time.Time
	}{{"a", at.Add(20 * time.Second)}, {"a", at.Add(31 * time.Second)}, {"b", at.Add(39 * time.Second)}, {"c", at.Add(time.Second)}} {
		r1, _ := RestoreListening("u", tail, 1).Listen(c.song, c.at)
		r2, _ := NewListening("u").replayOf(tail).Listen(c.song, c.at)
		if r1 != r2 {
			t.Errorf("%s at %s: restored %v, replayed %v", c.song, c.at, r1, r2)
		}
	}
	handed := restored.Tail()
	if ok, _ := restored.Listen("c", at.Add(time.Minute)); !ok {
		t.Fatal("a new song was not recorded")
	}
	if len(handed) != 2 || len(tail) != 2 || len(restored.Tail()) != 3 {
		t.Fatalf("handed %d, original %d, now %d plays", len(handed), len(tail), len(restored.Tail()))
	}
	again := restored.Tail()
	_ = append(handed, ListenRecorded{SongID: "x"}) // a caller appending to what it got
	if again[2].SongID != "c" {
		t.Errorf("a caller's append changed the aggregate's tail: %v", again)
	}
}

func (l *Listening) replayOf(tail []ListenRecorded) *Listening {
	for i, p := range tail {
		l.AggregateRoot().Replay(l, p, uint64(i))
	}
	return l
}
