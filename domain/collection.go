package domain

import (
	"slices"
	"strings"
)

// CollectionStream is the stream of one collection (playlist or album).
func CollectionStream(id string) string { return "collection-" + id }

// CollectionType is what kind of collection it is. The spellings are part
// of the wire contract.
type CollectionType string

const (
	CollectionAlbum    CollectionType = "Album"
	CollectionSingle   CollectionType = "Single"
	CollectionEP       CollectionType = "EP"
	CollectionPlaylist CollectionType = "Playlist"
	CollectionMix      CollectionType = "Mix"
)

// collectionTypes maps the lower-case spelling to the canonical one.
var collectionTypes = map[string]CollectionType{
	"album": CollectionAlbum, "single": CollectionSingle, "ep": CollectionEP,
	"playlist": CollectionPlaylist, "mix": CollectionMix,
}

// AlbumTypes are the catalog kinds of collection, listed by
// GET /v1/collection/albums.
var AlbumTypes = []CollectionType{CollectionAlbum, CollectionEP, CollectionSingle}

// ParseCollectionType accepts the five type names in any letter case and
// returns the canonical spelling.
func ParseCollectionType(s string) (CollectionType, error) {
	if t, ok := collectionTypes[strings.ToLower(strings.TrimSpace(s))]; ok {
		return t, nil
	}
	return "", Invalid("Invalid type: must be one of Album, Single, EP, Playlist, Mix")
}

// Catalog reports whether the type belongs to the catalog (albums, singles,
// EPs), which only Artist Managers and Admins create.
func (t CollectionType) Catalog() bool { return slices.Contains(AlbumTypes, t) }

// Visibility says who may see a collection.
type Visibility string

const (
	Public  Visibility = "Public"
	Private Visibility = "Private"
)

// ParseVisibility accepts Public and Private in any letter case.
func ParseVisibility(s string) (Visibility, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "public":
		return Public, nil
	case "private":
		return Private, nil
	}
	return "", Invalid("Invalid visibility: must be Public or Private")
}

// Collection events. They carry ids, titles and settings: nothing personal.
type (
	CollectionCreated struct {
		CollectionID string         `json:"collection_id"`
		Title        string         `json:"title"`
		Description  string         `json:"description"`
		ThumbnailURL string         `json:"thumbnailurl"`
		Type         CollectionType `json:"type"`
		Visibility   Visibility     `json:"visibility"`
		OwnerID      string         `json:"owner_id"`
	}
	CollectionUpdated struct {
		CollectionID string          `json:"collection_id"`
		Title        *string         `json:"title,omitempty"`
		Description  *string         `json:"description,omitempty"`
		ThumbnailURL *string         `json:"thumbnailurl,omitempty"`
		Type         *CollectionType `json:"type,omitempty"`
		Visibility   *Visibility     `json:"visibility,omitempty"`
	}
	CollectionDeleted struct {
		CollectionID string `json:"collection_id"`
	}
	SongAddedToCollection struct {
		CollectionID string `json:"collection_id"`
		SongID       string `json:"song_id"`
	}
	SongRemovedFromCollection struct {
		CollectionID string `json:"collection_id"`
		SongID       string `json:"song_id"`
	}
)

func (CollectionCreated) EventType() string         { return "CollectionCreated" }
func (CollectionUpdated) EventType() string         { return "CollectionUpdated" }
func (CollectionDeleted) EventType() string         { return "CollectionDeleted" }
func (SongAddedToCollection) EventType() string     { return "SongAddedToCollection" }
func (SongRemovedFromCollection) EventType() string { return "SongRemovedFromCollection" }

func init() {
	register[CollectionCreated]()
	register[CollectionUpdated]()
	register[CollectionDeleted]()
	register[SongAddedToCollection]()
	register[SongRemovedFromCollection]()
}

// MaxCollectionSongs bounds a collection, and with it the stream a command
// replays before each change.
const MaxCollectionSongs = 5000

// Collection is a playlist, mix, album, single or EP: an ordered list of
// songs owned by one user.
type Collection struct {
	Root
	ID           string
	Title        string
	Description  string
	ThumbnailURL string
	Type         CollectionType
	Visibility   Visibility
	OwnerID      string
	// Songs are the song ids in the order they were added.
	Songs   []string
	Deleted bool

	created bool
}

// NewCollection is an empty aggregate for id.
func NewCollection(id string) *Collection { return &Collection{ID: id} }

// Exists reports whether the collection was created and not deleted.
func (c *Collection) Exists() bool { return c.created && !c.Deleted }

// Has reports whether the song is in the collection.
func (c *Collection) Has(songID string) bool { return slices.Contains(c.Songs, songID) }

// Apply folds one event into the collection's state.
func (c *Collection) Apply(e Event) {
	switch e := e.(type) {
	case CollectionCreated:
		c.created = true
		c.ID, c.Title, c.Description, c.ThumbnailURL = e.CollectionID, e.Title, e.Description, e.ThumbnailURL
		c.Type, c.Visibility, c.OwnerID = e.Type, e.Visibility, e.OwnerID
	case CollectionUpdated:
		setIf(&c.Title, e.Title)
		setIf(&c.Description, e.Description)
		setIf(&c.ThumbnailURL, e.ThumbnailURL)
		if e.Type != nil {
			c.Type = *e.Type
		}
		if e.Visibility != nil {
			c.Visibility = *e.Visibility
		}
	case CollectionDeleted:
		c.Deleted = true
	case SongAddedToCollection:
		if !c.Has(e.SongID) {
			c.Songs = append(c.Songs, e.SongID)
		}
	case SongRemovedFromCollection:
		c.Songs = slices.DeleteFunc(c.Songs, func(id string) bool { return id == e.SongID })
	}
}

// CollectionFields are a collection's editable fields as they arrive; nil
// means "not given". Type and Visibility are parsed in any letter case; a
// blank one counts as not given.
type CollectionFields struct {
	Title, Description, ThumbnailURL, Type, Visibility *string
}

func (f CollectionFields) empty() bool {
	return f.Title == nil && f.Description == nil && f.ThumbnailURL == nil && f.Type == nil && f.Visibility == nil
}

// collectionSettings are the parsed type and visibility; nil when not given.
type collectionSettings struct {
	typ        *CollectionType
	visibility *Visibility
}

func parseCollectionFields(f CollectionFields) (collectionSettings, error) {
	var s collectionSettings
	if err := firstErr(
		checkText(f.Title, "title", 200),
		checkText(f.Description, "description", 5000),
		checkText(f.ThumbnailURL, "thumbnailurl", maxURL),
	); err != nil {
		return s, err
	}
	if raw := trimmed(f.Type); raw != "" {
		t, err := ParseCollectionType(raw)
		if err != nil {
			return s, err
		}
		s.typ = &t
	}
	if raw := trimmed(f.Visibility); raw != "" {
		v, err := ParseVisibility(raw)
		if err != nil {
			return s, err
		}
		s.visibility = &v
	}
	return s, nil
}

// MayCreateCollection reports whether p may create a collection of type t:
// catalog types need an Artist Manager or an Admin, playlists and mixes
// any signed-in user.
func MayCreateCollection(p Principal, t CollectionType) bool {
	if p.Anonymous() {
		return false
	}
	return !t.Catalog() || CanManageCatalog(p)
}

// Create makes the collection, owned by its creator. The type defaults to
// Playlist and the visibility to Public.
func (c *Collection) Create(f CollectionFields, by Principal) error {
	if by.Anonymous() {
		return Errorf(ErrUnauthorized, "Authentication required")
	}
	if c.created {
		return Conflict("Collection already exists")
	}
	title := trimmed(f.Title)
	if title == "" {
		return Invalid("Payload must have field: title")
	}
	s, err := parseCollectionFields(f)
	if err != nil {
		return err
	}
	typ, vis := CollectionPlaylist, Public
	if s.typ != nil {
		typ = *s.typ
	}
	if s.visibility != nil {
		vis = *s.visibility
	}
	if !MayCreateCollection(by, typ) {
		return Forbidden("Only an Artist Manager or an Admin can create an Album, Single or EP")
	}
	c.Record(c, CollectionCreated{CollectionID: c.ID, Title: title, Description: trimmed(f.Description),
		ThumbnailURL: trimmed(f.ThumbnailURL), Type: typ, Visibility: vis, OwnerID: by.UserID})
	return nil
}

// VisibleTo reports whether p may see the collection: a public one anybody,
// a private one its owner and Admins.
func (c *Collection) VisibleTo(p Principal) bool {
	return c.Visibility == Public || c.ownedBy(p) || p.IsAdmin()
}

// ChangeableBy reports whether p may change the collection: its owner or an
// Admin.
func (c *Collection) ChangeableBy(p Principal) bool { return c.ownedBy(p) || p.IsAdmin() }

func (c *Collection) ownedBy(p Principal) bool { return p.UserID != "" && p.UserID == c.OwnerID }

// CheckChange is the permission check every change starts with. A private
// collection is "does not exist" to strangers, so they learn nothing about
// it; a visible one they may not change is 403.
func (c *Collection) CheckChange(by Principal) error {
	if !c.Exists() || !c.VisibleTo(by) {
		return NotFound("Collection does not exist")
	}
	if !c.ChangeableBy(by) {
		return Forbidden("Only the collection's owner or an Admin can change it")
	}
	return nil
}

// Update changes the given fields; at least one must be given. Turning a
// collection into a catalog type needs the same role as creating one.
func (c *Collection) Update(f CollectionFields, by Principal) error {
	if err := c.CheckChange(by); err != nil {
		return err
	}
	if f.empty() {
		return Invalid("Payload must have at least one field")
	}
	if f.Title != nil && strings.TrimSpace(*f.Title) == "" {
		return Invalid("title cannot be empty")
	}
	s, err := parseCollectionFields(f)
	if err != nil {
		return err
	}
	ev := CollectionUpdated{CollectionID: c.ID, Title: changed(c.Title, f.Title),
		Description: changed(c.Description, f.Description), ThumbnailURL: changed(c.ThumbnailURL, f.ThumbnailURL)}
	if s.typ != nil && *s.typ != c.Type {
		if !MayCreateCollection(by, *s.typ) {
			return Forbidden("Only an Artist Manager or an Admin can make an Album, Single or EP")
		}
		ev.Type = s.typ
	}
	if s.visibility != nil && *s.visibility != c.Visibility {
		ev.Visibility = s.visibility
	}
	if ev.Title != nil || ev.Description != nil || ev.ThumbnailURL != nil || ev.Type != nil || ev.Visibility != nil {
		c.Record(c, ev)
	}
	return nil
}

// Delete removes the collection.
func (c *Collection) Delete(by Principal) error {
	if err := c.CheckChange(by); err != nil {
		return err
	}
	c.Record(c, CollectionDeleted{CollectionID: c.ID})
	return nil
}

// AddSong appends a song; adding one that is already there changes nothing.
// The caller (commands) has checked that the song exists.
func (c *Collection) AddSong(songID string, by Principal) error {
	if err := c.CheckChange(by); err != nil {
		return err
	}
	if c.Has(songID) {
		return nil
	}
	if len(c.Songs) >= MaxCollectionSongs {
		return Errorf(ErrConflict, "A collection holds at most %d songs", MaxCollectionSongs)
	}
	c.Record(c, SongAddedToCollection{CollectionID: c.ID, SongID: songID})
	return nil
}

// RemoveSong takes a song out; removing one that is not there changes nothing.
func (c *Collection) RemoveSong(songID string, by Principal) error {
	if err := c.CheckChange(by); err != nil {
		return err
	}
	if c.Has(songID) {
		c.Record(c, SongRemovedFromCollection{CollectionID: c.ID, SongID: songID})
	}
	return nil
}
