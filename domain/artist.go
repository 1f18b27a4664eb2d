package domain

import (
	"sort"
	"strings"
)

// ArtistStream is the stream of one artist.
func ArtistStream(id string) string { return "artist-" + id }

// Artist events.
type (
	ArtistAdded struct {
		ArtistID    string `json:"artist_id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		AvatarURL   string `json:"avatarurl"`
		Country     string `json:"country"`
		ManagerID   string `json:"managerid"`
	}
	ArtistUpdated struct {
		ArtistID    string  `json:"artist_id"`
		Name        *string `json:"name,omitempty"`
		Description *string `json:"description,omitempty"`
		AvatarURL   *string `json:"avatarurl,omitempty"`
		Country     *string `json:"country,omitempty"`
	}
	ArtistDeleted struct {
		ArtistID string `json:"artist_id"`
	}
	// ArtistSongCredited and ArtistSongUncredited keep on the artist's own
	// stream which songs credit it, so the artist can refuse to be deleted
	// while songs still name it without asking any read model.
	ArtistSongCredited struct {
		ArtistID string `json:"artist_id"`
		SongID   string `json:"song_id"`
	}
	ArtistSongUncredited struct {
		ArtistID string `json:"artist_id"`
		SongID   string `json:"song_id"`
	}
)

func (ArtistAdded) EventType() string          { return "ArtistAdded" }
func (ArtistUpdated) EventType() string        { return "ArtistUpdated" }
func (ArtistDeleted) EventType() string        { return "ArtistDeleted" }
func (ArtistSongCredited) EventType() string   { return "ArtistSongCredited" }
func (ArtistSongUncredited) EventType() string { return "ArtistSongUncredited" }

func init() {
	register[ArtistAdded]()
	register[ArtistUpdated]()
	register[ArtistDeleted]()
	register[ArtistSongCredited]()
	register[ArtistSongUncredited]()
}

// Artist is a performer in the catalog, run by one Artist Manager.
type Artist struct {
	Root
	ID          string
	Name        string
	Description string
	AvatarURL   string
	Country     string
	ManagerID   string
	Deleted     bool
	Songs       map[string]bool

	added bool
}

// NewArtist is an empty aggregate for id.
func NewArtist(id string) *Artist { return &Artist{ID: id, Songs: map[string]bool{}} }

// Exists reports whether the artist was added and not deleted.
func (a *Artist) Exists() bool { return a.added && !a.Deleted }

// Apply folds one event into the artist's state.
func (a *Artist) Apply(e Event) {
	switch e := e.(type) {
	case ArtistAdded:
		a.added = true
		a.ID, a.Name, a.Description, a.AvatarURL, a.Country, a.ManagerID = e.ArtistID, e.Name, e.Description, e.AvatarURL, e.Country, e.ManagerID
	case ArtistUpdated:
		setIf(&a.Name, e.Name)
		setIf(&a.Description, e.Description)
		setIf(&a.AvatarURL, e.AvatarURL)
		setIf(&a.Country, e.Country)
	case ArtistDeleted:
		a.Deleted = true
	case ArtistSongCredited:
		a.Songs[e.SongID] = true
	case ArtistSongUncredited:
		delete(a.Songs, e.SongID)
	}
}

// ArtistFields are an artist's editable fields; nil means "not given".
type ArtistFields struct {
	Name, Description, AvatarURL, Country *string
}

func (f ArtistFields) empty() bool {
	return f.Name == nil && f.Description == nil && f.AvatarURL == nil && f.Country == nil
}

// CanManageCatalog reports whether p may add artists, songs and albums.
func CanManageCatalog(p Principal) bool {
	return p.Role == RoleAdmin || p.Role == RoleArtistManager
}

// ManagedBy reports whether p may change this artist: its manager or an Admin.
func (a *Artist) ManagedBy(p Principal) bool {
	return p.IsAdmin() || p.Role == RoleArtistManager && p.UserID != "" && p.UserID == a.ManagerID
}

// Add puts the artist in the catalog, managed by its creator.
func (a *Artist) Add(f ArtistFields, by Principal) error {
	if !CanManageCatalog(by) {
		return Forbidden("Only an Artist Manager or an Admin can add artists")
	}
	if a.added {
		return Conflict("Artist already exists")
	}
	name := trimmed(f.Name)
	if name == "" {
		return Invalid("Payload must have field: name")
	}
	f.Name = &name
	if err := validateArtist(f); err != nil {
		return err
	}
	a.Record(a, ArtistAdded{ArtistID: a.ID, Name: name, Description: trimmed(f.Description),
		AvatarURL: trimmed(f.AvatarURL), Country: trimmed(f.Country), ManagerID: by.UserID})
	return nil
}

// Update changes the given fields; its manager or an Admin only.
func (a *Artist) Update(f ArtistFields, by Principal) error {
	if !a.Exists() {
		return NotFound("Artist does not exist")
	}
	if !a.ManagedBy(by) {
		return Forbidden("Only the artist's manager or an Admin can change it")
	}
	if f.empty() {
		return Invalid("Payload must have at least one field")
	}
	if f.Name != nil && strings.TrimSpace(*f.Name) == "" {
		return Invalid("name cannot be empty")
	}
	if err := validateArtist(f); err != nil {
		return err
	}
	ev := ArtistUpdated{ArtistID: a.ID,
		Name: changed(a.Name, f.Name), Description: changed(a.Description, f.Description),
		AvatarURL: changed(a.AvatarURL, f.AvatarURL), Country: changed(a.Country, f.Country)}
	if ev.Name != nil || ev.Description != nil || ev.AvatarURL != nil || ev.Country != nil {
		a.Record(a, ev)
	}
	return nil
}

// Delete removes the artist. An artist that songs still credit cannot be
// deleted: delete those songs first (the catalog never shows a song without
// its artist).
func (a *Artist) Delete(by Principal) error {
	if !a.Exists() {
		return NotFound("Artist does not exist")
	}
	if !a.ManagedBy(by) {
		return Forbidden("Only the artist's manager or an Admin can delete it")
	}
	if n := len(a.Songs); n > 0 {
		return Errorf(ErrConflict, "Artist still has %d song(s): delete them first", n)
	}
	a.Record(a, ArtistDeleted{ArtistID: a.ID})
	return nil
}

// Credit records that a song names this artist.
func (a *Artist) Credit(songID string) error {
	if !a.Exists() {
		return Errorf(ErrNotFound, "Artist %s does not exist", a.ID)
	}
	if !a.Songs[songID] {
		a.Record(a, ArtistSongCredited{ArtistID: a.ID, SongID: songID})
	}
	return nil
}

// Uncredit records that a song no longer names this artist.
func (a *Artist) Uncredit(songID string) {
	if a.Songs[songID] {
		a.Record(a, ArtistSongUncredited{ArtistID: a.ID, SongID: songID})
	}
}

// SongIDs lists the songs crediting the artist, sorted.
func (a *Artist) SongIDs() []string {
	out := make([]string, 0, len(a.Songs))
	for id := range a.Songs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func validateArtist(f ArtistFields) error {
	return firstErr(
		checkText(f.Name, "name", 200),
		checkText(f.Description, "description", 5000),
		checkText(f.AvatarURL, "avatarurl", maxURL),
		checkText(f.Country, "country", maxCountry),
	)
}
