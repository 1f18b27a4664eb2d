// Package search is the port to Hust Musik's search index and the one text
// normalisation (Fold) that every indexed text and every query goes through.
// Two implementations pass one shared suite (searchtest): PostgreSQL
// (pgsearch, the default) and Elasticsearch (essearch, production).
//
// Semantics both implementations share, word by word of the query (all words
// must match, in any order):
//   - a query word matches a document word that starts with it, after folding
//     case and diacritics ("son t" finds "Sơn Tùng", "chun" finds "Chúng");
//   - a query word of MinFuzzyRunes or more letters also matches a document
//     word one edit away ("adelle" finds "Adele");
//   - the score adds, per query word, ScoreExact if a document word equals it
//     with its diacritics, ScoreWord if one equals it folded, ScorePrefix if
//     one starts with it folded, ScoreFuzzy if one is within one edit of it
//     (long words only); results are ordered by score, then popularity (views,
//     for songs), then folded title and id, so orders are deterministic.
package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/google/uuid"
)

// Per-word score points. A hit typed with the right diacritics always ranks
// above a folded-only one: ScoreExact is larger than the other three together.
const (
	ScoreExact  = 8
	ScoreWord   = 4
	ScorePrefix = 2
	ScoreFuzzy  = 1
)

// MaxWindow is how deep results can be paged (page*limit). Elasticsearch
// refuses deeper pages (index.max_result_window); PostgreSQL answers [] too
// so both behave alike.
const MaxWindow = 10000

// Collection types and visibilities, spelled as the domain and the wire do.
const (
	TypeAlbum         = "Album"
	TypeEP            = "EP"
	TypeSingle        = "Single"
	TypePlaylist      = "Playlist"
	TypeMix           = "Mix"
	VisibilityPublic  = "Public"
	VisibilityPrivate = "Private"
)

// AlbumTypes and PlaylistTypes are the collection types each search returns.
var (
	AlbumTypes    = []string{TypeAlbum, TypeEP, TypeSingle}
	PlaylistTypes = []string{TypePlaylist, TypeMix}
)

// ArtistRef is an artist credited on a song.
type ArtistRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SongDoc is a searchable song (matched on its title).
type SongDoc struct {
	ID           string      `json:"id"`
	Title        string      `json:"title"`
	ThumbnailURL string      `json:"thumbnailurl"`
	Duration     int         `json:"duration"`
	Views        int64       `json:"views"`
	ReleaseDate  string      `json:"releasedate"`
	Genre        string      `json:"genre"`
	Artists      []ArtistRef `json:"artists"`
}

// ArtistDoc is a searchable artist (matched on its name).
type ArtistDoc struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatarurl"`
}

// Owner is the user who owns a collection.
type Owner struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	AvatarURL string `json:"avatarurl"`
}

// CollectionDoc is a searchable album, EP, single, playlist or mix (matched
// on its title). Type and Visibility use the constants above.
type CollectionDoc struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Description  string `json:"description"`
	ThumbnailURL string `json:"thumbnailurl"`
	Type         string `json:"type"`
	Visibility   string `json:"visibility"`
	Owner        Owner  `json:"owner"`
}

// UserDoc is a searchable user (matched on the username).
type UserDoc struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	AvatarURL string `json:"avatarurl"`
}

// Kind names an index.
type Kind string

const (
	KindSong       Kind = "song"
	KindArtist     Kind = "artist"
	KindCollection Kind = "collection"
	KindUser       Kind = "user"
)

// Change is one write to the index: an upsert of a document or a delete.
// Version is the global log position of the event that caused it; an index
// ignores a change whose version is lower than or equal to the one it holds
// for that document (a delete leaves its version behind), so replays and
// late, out-of-order writes are harmless. Build changes with the Upsert* and
// Delete functions.
type Change struct {
	Kind    Kind
	ID      string // canonical lower-case UUID
	Version uint64
	Delete  bool

	Song       *SongDoc
	Artist     *ArtistDoc
	Collection *CollectionDoc
	User       *UserDoc
}

// UpsertSong, UpsertArtist, UpsertCollection and UpsertUser index a document.
func UpsertSong(d SongDoc, version uint64) Change {
	return Change{Kind: KindSong, ID: d.ID, Version: version, Song: &d}
}
func UpsertArtist(d ArtistDoc, version uint64) Change {
	return Change{Kind: KindArtist, ID: d.ID, Version: version, Artist: &d}
}
func UpsertCollection(d CollectionDoc, version uint64) Change {
	return Change{Kind: KindCollection, ID: d.ID, Version: version, Collection: &d}
}
func UpsertUser(d UserDoc, version uint64) Change {
	return Change{Kind: KindUser, ID: d.ID, Version: version, User: &d}
}

// Delete removes a document (a song deleted, a playlist made private is NOT
// a delete: it stays indexed for its owner).
func Delete(kind Kind, id string, version uint64) Change {
	return Change{Kind: kind, ID: id, Version: version, Delete: true}
}

// ErrInvalidChange marks a change an index refuses to write.
var ErrInvalidChange = errors.New("search: invalid change")

// Canonical checks a change and returns it with its id (and the document's)
// in canonical UUID form, and nil slices made empty, so both indexes store
// and sort the same strings.
func (c Change) Canonical() (Change, error) {
	id, err := uuid.Parse(c.ID)
	if err != nil {
		return c, fmt.Errorf("%w: %s id %q: %v", ErrInvalidChange, c.Kind, c.ID, err)
	}
	if c.Version > math.MaxInt64 {
		return c, fmt.Errorf("%w: version %d does not fit a signed 64-bit integer", ErrInvalidChange, c.Version)
	}
	c.ID = id.String()
	if c.Delete {
		switch c.Kind {
		case KindSong, KindArtist, KindCollection, KindUser:
			return c, nil
		}
		return c, fmt.Errorf("%w: unknown kind %q", ErrInvalidChange, c.Kind)
	}
	switch {
	case c.Kind == KindSong && c.Song != nil:
		d := *c.Song
		d.ID = c.ID
		if d.Artists == nil {
			d.Artists = []ArtistRef{}
		}
		c.Song = &d
	case c.Kind == KindArtist && c.Artist != nil:
		d := *c.Artist
		d.ID = c.ID
		c.Artist = &d
	case c.Kind == KindCollection && c.Collection != nil:
		d := *c.Collection
		d.ID = c.ID
		if !validType(d.Type) {
			return c, fmt.Errorf("%w: collection %s has type %q", ErrInvalidChange, c.ID, d.Type)
		}
		if d.Visibility != VisibilityPublic && d.Visibility != VisibilityPrivate {
			return c, fmt.Errorf("%w: collection %s has visibility %q", ErrInvalidChange, c.ID, d.Visibility)
		}
		c.Collection = &d
	case c.Kind == KindUser && c.User != nil:
		d := *c.User
		d.ID = c.ID
		c.User = &d
	default:
		return c, fmt.Errorf("%w: %s upsert %s without its document", ErrInvalidChange, c.Kind, c.ID)
	}
	return c, nil
}

func validType(t string) bool {
	for _, s := range append(append([]string{}, AlbumTypes...), PlaylistTypes...) {
		if s == t {
			return true
		}
	}
	return false
}

// Index is the search index port.
type Index interface {
	// Apply writes changes in order; a change not newer than what the index
	// holds for its document is skipped, not an error.
	Apply(ctx context.Context, changes []Change) error
	// Songs, Artists, Albums and Users find documents of one kind; page
	// starts at 1. They never return a nil slice.
	Songs(ctx context.Context, q Query, page, limit int) ([]SongDoc, error)
	Artists(ctx context.Context, q Query, page, limit int) ([]ArtistDoc, error)
	// Albums finds public albums, EPs and singles.
	Albums(ctx context.Context, q Query, page, limit int) ([]CollectionDoc, error)
	// Playlists finds public playlists and mixes, plus the private ones owned
	// by viewerID ("" for an anonymous caller).
	Playlists(ctx context.Context, q Query, viewerID string, page, limit int) ([]CollectionDoc, error)
	Users(ctx context.Context, q Query, page, limit int) ([]UserDoc, error)
	// Reset empties the index, tombstones included (a rebuild starts here).
	Reset(ctx context.Context) error
}

// Window turns page and limit into an offset and a size, both zero when
// nothing can be returned (limit < 1, or deeper than MaxWindow).
func Window(page, limit int) (offset, size int) {
	if page < 1 {
		page = 1
	}
	if limit < 1 {
		return 0, 0
	}
	if limit > MaxWindow || page-1 > MaxWindow/limit { // also keeps the product from overflowing
		return 0, 0
	}
	offset = (page - 1) * limit
	if offset >= MaxWindow {
		return 0, 0
	}
	size = min(limit, MaxWindow-offset)
	return offset, size
}

// SortKey is the folded title that breaks ties after score and popularity;
// both indexes compare it byte-wise (C collation, Lucene keyword order).
func SortKey(s string) string { return Fold(s) }

// Words returns the distinct words of a normalized text, in order.
func Words(normalized string) []string {
	fields := strings.Fields(normalized)
	out := make([]string, 0, len(fields))
	seen := make(map[string]bool, len(fields))
	for _, w := range fields {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
