package domain

import (
	"fmt"
	"time"
)

// SongPlaysStream is the stream of a song's stream grants. It is apart from
// the song's own stream because a popular song gets millions of them: the
// Song aggregate, loaded whole for every decision, never reads them.
func SongPlaysStream(songID string) string { return "songplays-" + songID }

// Media events. Neither carries who asked: the actor is in the metadata.
type (
	// AudioUploadGranted: a presigned PUT URL for the song's audio was
	// handed out, valid until ExpiresAt.
	AudioUploadGranted struct {
		SongID    string    `json:"song_id"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	// StreamGranted: a presigned GET URL of the song's audio was handed out;
	// each one counts as a view.
	StreamGranted struct {
		SongID    string    `json:"song_id"`
		GrantedAt time.Time `json:"granted_at"`
	}
)

func (AudioUploadGranted) EventType() string { return "AudioUploadGranted" }
func (StreamGranted) EventType() string      { return "StreamGranted" }

func init() {
	register[AudioUploadGranted]()
	register[StreamGranted]()
}

// Upload grants are rate limited per song: at most UploadGrantLimit in any
// UploadGrantWindow, which is also how long an upload URL is valid.
const (
	UploadGrantLimit  = 30
	UploadGrantWindow = 15 * time.Minute
)

// applyMedia folds the song's media events in. Only the last
// UploadGrantLimit grants matter to the rate limit, so no more are kept.
func (s *Song) applyMedia(e Event) {
	if g, ok := e.(AudioUploadGranted); ok {
		s.uploadGrants = append(s.uploadGrants, g.ExpiresAt)
		if n := len(s.uploadGrants); n > UploadGrantLimit {
			s.uploadGrants = append(s.uploadGrants[:0], s.uploadGrants[n-UploadGrantLimit:]...)
		}
	}
}

// GrantUpload records a grant of an upload URL valid until
// now+UploadGrantWindow. A grant counts against the limit while its URL is
// valid, so the 31st grant within a window is refused until the oldest of
// the last 30 expires. The caller has checked who asks.
func (s *Song) GrantUpload(now time.Time) (expires time.Time, err error) {
	if !s.Exists() {
		return time.Time{}, NotFound("Song does not exist")
	}
	live := 0
	oldest := time.Time{}
	for _, exp := range s.uploadGrants {
		if exp.After(now) {
			if live == 0 {
				oldest = exp
			}
			live++
		}
	}
	if live >= UploadGrantLimit {
		wait := max(oldest.Sub(now).Round(time.Second), time.Second)
		return time.Time{}, Errorf(ErrRateLimited,
			"Too many upload URLs for this song: at most %d every %d minutes; try again in %s",
			UploadGrantLimit, int(UploadGrantWindow.Minutes()), fmt.Sprint(wait))
	}
	expires = now.Add(UploadGrantWindow).UTC()
	s.Record(s, AudioUploadGranted{SongID: s.ID, ExpiresAt: expires})
	return expires, nil
}
