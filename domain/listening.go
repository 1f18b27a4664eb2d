package domain

import (
	"slices"
	"time"
)

// ListensStream is the stream of one user's listens. It grows with every
// play, so it is never loaded whole: a Listening aggregate is built from the
// stream's last ListeningTail events.
func ListensStream(userID string) string { return "listens-" + userID }

// ListenRecorded is one play of a song by a user. Analysts replay these
// events (events export), so the shape is small and stable; schema version 1:
//
//	user_id      the listener's id (UUID, lower case)
//	song_id      the song's id (UUID, lower case)
//	listened_at  when the play was reported, by the server's clock: RFC 3339,
//	             UTC, microsecond precision. Strictly increasing within one
//	             user's stream (two plays never share an instant).
//
// A repeat of the same song by the same user less than RepeatWindow after
// its previous play is the same listen and records no event.
type ListenRecorded struct {
	UserID     string    `json:"user_id"`
	SongID     string    `json:"song_id"`
	ListenedAt time.Time `json:"listened_at"`
}

func (ListenRecorded) EventType() string { return "ListenRecorded" }

func init() { register[ListenRecorded]() }

const (
	// RepeatWindow: a play of a song this soon after the previous play of
	// the same song by the same user is one listen, not two.
	RepeatWindow = 30 * time.Second
	// ListeningTail is how many of a user's last listens the aggregate
	// needs. Only a play of the same song within RepeatWindow matters, and
	// a listener does not start 100 other songs in 30 seconds; should one
	// try, the worst case is one extra listen counted, never a lost one.
	ListeningTail = 100
)

// Listening is a user's recent listening: the plays of the stream's tail,
// in stream order (so in ListenedAt order), the latest last.
type Listening struct {
	Root
	UserID string
	tail   []ListenRecorded
}

// NewListening is an empty aggregate for a user, to be loaded from the tail
// of ListensStream(userID).
func NewListening(userID string) *Listening {
	return &Listening{UserID: userID}
}

// RestoreListening is the aggregate of a stream whose tail (in stream order)
// ends at revision: what loading those events would build, without folding
// them one by one (a listener's tail is kept in memory between listens).
// tail is copied, with room for the play a listen records.
func RestoreListening(userID string, tail []ListenRecorded, revision uint64) *Listening {
	own := make([]ListenRecorded, len(tail), len(tail)+1)
	copy(own, tail)
	l := &Listening{UserID: userID, tail: own}
	l.Committed(revision)
	return l
}

// Tail is the plays the aggregate knows, in stream order, the recorded ones
// included. The caller may keep it: the aggregate never changes what it
// returned (a later play is appended to a new array).
func (l *Listening) Tail() []ListenRecorded { return slices.Clip(l.tail) }

// Apply folds one event into the recent past.
func (l *Listening) Apply(e Event) {
	if e, ok := e.(ListenRecorded); ok {
		l.tail = append(l.tail, e)
	}
}

// LastPlay is when songID was last played, as far as the tail knows. The
// tail is short (ListeningTail at most): a scan from its end is cheaper
// than keeping an index of it.
func (l *Listening) LastPlay(songID string) (time.Time, bool) {
	for i := len(l.tail) - 1; i >= 0; i-- {
		if l.tail[i].SongID == songID {
			return l.tail[i].ListenedAt, true
		}
	}
	return time.Time{}, false
}

// latest is the instant of the stream's last play (zero: none known).
func (l *Listening) latest() time.Time {
	if len(l.tail) == 0 {
		return time.Time{}
	}
	return l.tail[len(l.tail)-1].ListenedAt
}

// Listen records a play of songID at the instant at, unless the same song
// was played less than RepeatWindow before. It reports whether a play was
// recorded. The caller has checked that the song exists.
//
// The instant is kept to the microsecond (what the read model stores) and
// moved just past the stream's last play when the clock did not advance, so
// that a user's plays are strictly ordered: the history's paging cursor (a
// last_listened instant) then never ties.
func (l *Listening) Listen(songID string, at time.Time) (bool, error) {
	if songID == "" {
		return false, Invalid("Invalid song id: must be a UUID")
	}
	at = at.UTC().Truncate(time.Microsecond)
	if prev, ok := l.LastPlay(songID); ok && at.Sub(prev) < RepeatWindow {
		return false, nil
	}
	if latest := l.latest(); !at.After(latest) {
		at = latest.Add(time.Microsecond)
	}
	l.Record(l, ListenRecorded{UserID: l.UserID, SongID: songID, ListenedAt: at})
	return true, nil
}
