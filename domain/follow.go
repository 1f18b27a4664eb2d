package domain

import (
	"sort"
)

// Follow events live on the follower's own stream (UserStream): the set of
// artists a user follows is part of the User aggregate, so following twice
// is decided there without asking any read model.
type (
	ArtistFollowed struct {
		UserID   string `json:"user_id"`
		ArtistID string `json:"artist_id"`
	}
	ArtistUnfollowed struct {
		UserID   string `json:"user_id"`
		ArtistID string `json:"artist_id"`
	}
)

func (ArtistFollowed) EventType() string   { return "ArtistFollowed" }
func (ArtistUnfollowed) EventType() string { return "ArtistUnfollowed" }

func init() {
	register[ArtistFollowed]()
	register[ArtistUnfollowed]()
}

// applyFollow folds a follow event into the user's followed set; User.Apply
// hands it every event it does not know itself.
func (u *User) applyFollow(e Event) {
	switch e := e.(type) {
	case ArtistFollowed:
		if u.Following == nil {
			u.Following = map[string]bool{}
		}
		u.Following[e.ArtistID] = true
	case ArtistUnfollowed:
		delete(u.Following, e.ArtistID)
	}
}

// Follow adds an artist to the user's followed set. The caller (commands)
// has checked that the artist exists. Following an artist already followed
// records nothing: a repeated click is not an error.
func (u *User) Follow(artistID string) error {
	if !u.Exists() {
		return NotFound("User does not exist")
	}
	if artistID == "" {
		return Invalid("Invalid artist id: must be a UUID")
	}
	if !u.Following[artistID] {
		u.Record(u, ArtistFollowed{UserID: u.ID, ArtistID: artistID})
	}
	return nil
}

// Unfollow removes an artist from the followed set; unfollowing an artist
// not followed records nothing.
func (u *User) Unfollow(artistID string) error {
	if !u.Exists() {
		return NotFound("User does not exist")
	}
	if u.Following[artistID] {
		u.Record(u, ArtistUnfollowed{UserID: u.ID, ArtistID: artistID})
	}
	return nil
}

// FollowedArtists lists the followed artist ids, sorted.
func (u *User) FollowedArtists() []string {
	out := make([]string, 0, len(u.Following))
	for id := range u.Following {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
