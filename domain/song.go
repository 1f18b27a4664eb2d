package domain

import (
	"strconv"
	"strings"
	"time"
)

// SongStream is the stream of one song.
func SongStream(id string) string { return "song-" + id }

// Song events.
type (
	SongAdded struct {
		SongID       string   `json:"song_id"`
		Title        string   `json:"title"`
		Description  string   `json:"description"`
		ArtistIDs    []string `json:"artist_ids"` // the first is Primary, the rest Featured
		ThumbnailURL string   `json:"thumbnailurl"`
		Duration     int      `json:"duration"`    // seconds
		ReleaseDate  string   `json:"releasedate"` // YYYY-MM-DD or ""
		Genre        string   `json:"genre"`
	}
	SongUpdated struct {
		SongID       string  `json:"song_id"`
		Title        *string `json:"title,omitempty"`
		Description  *string `json:"description,omitempty"`
		ThumbnailURL *string `json:"thumbnailurl,omitempty"`
		Duration     *int    `json:"duration,omitempty"`
		ReleaseDate  *string `json:"releasedate,omitempty"`
		Genre        *string `json:"genre,omitempty"`
	}
	SongDeleted struct {
		SongID    string   `json:"song_id"`
		ArtistIDs []string `json:"artist_ids"`
	}
)

func (SongAdded) EventType() string   { return "SongAdded" }
func (SongUpdated) EventType() string { return "SongUpdated" }
func (SongDeleted) EventType() string { return "SongDeleted" }

func init() {
	register[SongAdded]()
	register[SongUpdated]()
	register[SongDeleted]()
}

// Song is a track in the catalog.
type Song struct {
	Root
	ID           string
	Title        string
	Description  string
	ArtistIDs    []string
	ThumbnailURL string
	Duration     int
	ReleaseDate  string
	Genre        string
	Deleted      bool

	added bool
	// uploadGrants are the expiry times of the last upload grants (media.go).
	uploadGrants []time.Time
}

// NewSong is an empty aggregate for id.
func NewSong(id string) *Song { return &Song{ID: id} }

// Exists reports whether the song was added and not deleted.
func (s *Song) Exists() bool { return s.added && !s.Deleted }

// PrimaryArtist is the first credited artist.
func (s *Song) PrimaryArtist() string {
	if len(s.ArtistIDs) == 0 {
		return ""
	}
	return s.ArtistIDs[0]
}

// Apply folds one event into the song's state.
func (s *Song) Apply(e Event) {
	switch e := e.(type) {
	case SongAdded:
		s.added = true
		s.ID, s.Title, s.Description, s.ArtistIDs = e.SongID, e.Title, e.Description, e.ArtistIDs
		s.ThumbnailURL, s.Duration, s.ReleaseDate, s.Genre = e.ThumbnailURL, e.Duration, e.ReleaseDate, e.Genre
	case SongUpdated:
		setIf(&s.Title, e.Title)
		setIf(&s.Description, e.Description)
		setIf(&s.ThumbnailURL, e.ThumbnailURL)
		setIf(&s.ReleaseDate, e.ReleaseDate)
		setIf(&s.Genre, e.Genre)
		if e.Duration != nil {
			s.Duration = *e.Duration
		}
	case SongDeleted:
		s.Deleted = true
	default:
		s.applyMedia(e)
	}
}

// SongFields are a song's editable fields as text, as they arrive; nil
// means "not given".
type SongFields struct {
	Title, Description, ThumbnailURL, Duration, ReleaseDate, Genre *string
}

func (f SongFields) empty() bool {
	return f.Title == nil && f.Description == nil && f.ThumbnailURL == nil &&
		f.Duration == nil && f.ReleaseDate == nil && f.Genre == nil
}

// ParseArtistIDs reads the comma-separated `artists` field: at least one id,
// each a UUID, no repeats; the first is the Primary artist.
func ParseArtistIDs(raw string) ([]string, error) {
	bad := Invalid("Invalid payload request: artists must be a string separated by ','")
	if strings.TrimSpace(raw) == "" {
		return nil, bad
	}
	var ids []string
	seen := map[string]bool{}
	for _, part := range strings.Split(raw, ",") {
		id, err := ParseID(strings.TrimSpace(part), "artist")
		if err != nil {
			return nil, bad
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) > 20 {
		return nil, Invalid("A song credits at most 20 artists")
	}
	return ids, nil
}

// Add puts the song in the catalog. The caller (commands) has checked that
// every artist exists and that by manages the primary one.
func (s *Song) Add(f SongFields, artistIDs []string) error {
	if s.added {
		return Conflict("Song already exists")
	}
	title := trimmed(f.Title)
	if title == "" {
		return Invalid("Payload must have field: title")
	}
	if len(artistIDs) == 0 {
		return Invalid("Invalid payload request: artists must be a string separated by ','")
	}
	v, err := parseSongFields(f)
	if err != nil {
		return err
	}
	s.Record(s, SongAdded{SongID: s.ID, Title: title, Description: trimmed(f.Description), ArtistIDs: artistIDs,
		ThumbnailURL: trimmed(f.ThumbnailURL), Duration: v.duration, ReleaseDate: v.releaseDate, Genre: trimmed(f.Genre)})
	return nil
}

// Update changes the given fields.
func (s *Song) Update(f SongFields) error {
	if !s.Exists() {
		return NotFound("Song does not exist")
	}
	if f.empty() {
		return Invalid("Payload must have at least one field")
	}
	if f.Title != nil && strings.TrimSpace(*f.Title) == "" {
		return Invalid("title cannot be empty")
	}
	v, err := parseSongFields(f)
	if err != nil {
		return err
	}
	ev := SongUpdated{SongID: s.ID, Title: changed(s.Title, f.Title), Description: changed(s.Description, f.Description),
		ThumbnailURL: changed(s.ThumbnailURL, f.ThumbnailURL), Genre: changed(s.Genre, f.Genre)}
	if f.Duration != nil && v.duration != s.Duration {
		ev.Duration = &v.duration
	}
	if f.ReleaseDate != nil && v.releaseDate != s.ReleaseDate {
		ev.ReleaseDate = &v.releaseDate
	}
	if ev.Title != nil || ev.Description != nil || ev.ThumbnailURL != nil || ev.Genre != nil || ev.Duration != nil || ev.ReleaseDate != nil {
		s.Record(s, ev)
	}
	return nil
}

// Delete removes the song.
func (s *Song) Delete() error {
	if !s.Exists() {
		return NotFound("Song does not exist")
	}
	s.Record(s, SongDeleted{SongID: s.ID, ArtistIDs: s.ArtistIDs})
	return nil
}

type songValues struct {
	duration    int
	releaseDate string
}

func parseSongFields(f SongFields) (songValues, error) {
	var v songValues
	if err := firstErr(
		checkText(f.Title, "title", 300),
		checkText(f.Description, "description", 5000),
		checkText(f.ThumbnailURL, "thumbnailurl", maxURL),
		checkText(f.Genre, "genre", 100),
	); err != nil {
		return v, err
	}
	if d := trimmed(f.Duration); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			// The old frontend may send "215.0".
			fl, ferr := strconv.ParseFloat(d, 64)
			if ferr != nil || fl != float64(int(fl)) {
				return v, Invalid("duration must be a whole number of seconds")
			}
			n = int(fl)
		}
		if n < 0 || n > 24*3600 {
			return v, Invalid("duration must be between 0 and 86400 seconds")
		}
		v.duration = n
	}
	if r := trimmed(f.ReleaseDate); r != "" {
		// Accept a date or a full timestamp; keep the date.
		if len(r) >= 10 {
			if _, err := time.Parse("2006-01-02", r[:10]); err == nil {
				v.releaseDate = r[:10]
				return v, nil
			}
		}
		return v, Invalid("releasedate must be a date like 2024-05-31")
	}
	return v, nil
}

// CheckNewSong validates an Add Song request before anything is loaded or
// written, in the order the old backend reported problems: the title, then
// the artists, then the other fields. It returns the parsed artist ids.
func CheckNewSong(f SongFields, rawArtists *string) ([]string, error) {
	if trimmed(f.Title) == "" {
		return nil, Invalid("Payload must have field: title")
	}
	if rawArtists == nil {
		return nil, Invalid("Invalid payload request: artists must be a string separated by ','")
	}
	ids, err := ParseArtistIDs(*rawArtists)
	if err != nil {
		return nil, err
	}
	if _, err := parseSongFields(f); err != nil {
		return nil, err
	}
	return ids, nil
}

// AuthorizeSongChange says whether by may add, change or delete a song whose
// Primary artist is primary: that artist's manager, or an Admin. A song's
// featured artists give their managers no say over it.
func AuthorizeSongChange(primary *Artist, by Principal) error {
	if by.IsAdmin() {
		return nil
	}
	if !CanManageCatalog(by) {
		return Forbidden("Only an Artist Manager or an Admin can change songs")
	}
	if primary == nil || !primary.ManagedBy(by) {
		return Forbidden("Only the manager of the song's primary artist or an Admin can change it")
	}
	return nil
}
