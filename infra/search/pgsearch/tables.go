package pgsearch

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hustmusik/backend/infra/search"
)

// table describes one search table: its document columns and how a change
// fills them, and the SQL built from that once.
type table struct {
	name       string
	data       []string // document columns after id and version, in row order
	columns    string   // what a search selects, in scan order
	popularity string   // ORDER BY terms before the sort key ("views DESC," for songs)
	row        func(search.Change) ([]any, error)

	upsertSQL, deleteSQL string
}

// textColumns are the derived columns every table ends with; textRow fills them.
var textColumns = []string{"raw_words", "words", "folded", "sort_key"}

// textRow derives the searchable columns of a title. It is the only place
// pgsearch folds text, and it folds through search.Normalize / search.Fold.
func textRow(title string) []any {
	raw := search.Normalize(title)
	folded := search.Fold(title)
	return []any{search.Words(raw), search.Words(folded), " " + folded, search.SortKey(title)}
}

func newTable(name string, data []string, columns, popularity string, row func(search.Change) ([]any, error)) *table {
	t := &table{name: name, data: append(data, textColumns...), columns: columns, popularity: popularity, row: row}
	cols := append([]string{"id", "version"}, t.data...)
	params := make([]string, len(cols))
	sets := make([]string, len(t.data))
	clears := make([]string, len(t.data))
	for i := range cols {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	for i, c := range t.data {
		sets[i] = c + " = excluded." + c
		clears[i] = c + " = DEFAULT"
	}
	// The WHERE makes a write idempotent and order-safe: a change not newer
	// than the stored version (tombstones included) is dropped.
	t.upsertSQL = fmt.Sprintf(`INSERT INTO %s AS s (%s) VALUES (%s)
ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = false, %s
WHERE s.version < excluded.version`, name, strings.Join(cols, ", "), strings.Join(params, ", "), strings.Join(sets, ", "))
	t.deleteSQL = fmt.Sprintf(`INSERT INTO %s AS s (id, version, deleted) VALUES ($1, $2, true)
ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = true, %s
WHERE s.version < excluded.version`, name, strings.Join(clears, ", "))
	return t
}

var (
	songs = newTable("search_songs",
		[]string{"title", "thumbnailurl", "duration", "views", "releasedate", "genre", "artists"},
		"id::text, title, thumbnailurl, duration, views, releasedate, genre, artists", "views DESC,",
		func(c search.Change) ([]any, error) {
			d := c.Song
			artists, err := json.Marshal(d.Artists)
			if err != nil {
				return nil, fmt.Errorf("pgsearch: artists of song %s: %w", d.ID, err)
			}
			return append([]any{d.Title, d.ThumbnailURL, d.Duration, d.Views, d.ReleaseDate, d.Genre, string(artists)}, textRow(d.Title)...), nil
		})
	artists = newTable("search_artists", []string{"name", "avatarurl"}, "id::text, name, avatarurl", "",
		func(c search.Change) ([]any, error) {
			return append([]any{c.Artist.Name, c.Artist.AvatarURL}, textRow(c.Artist.Name)...), nil
		})
	collections = newTable("search_collections",
		[]string{"title", "description", "thumbnailurl", "type", "visibility", "owner_id", "owner_username", "owner_avatarurl"},
		"id::text, title, description, thumbnailurl, type, visibility, owner_id, owner_username, owner_avatarurl", "",
		func(c search.Change) ([]any, error) {
			d := c.Collection
			return append([]any{d.Title, d.Description, d.ThumbnailURL, d.Type, d.Visibility,
				strings.ToLower(d.Owner.ID), d.Owner.Username, d.Owner.AvatarURL}, textRow(d.Title)...), nil
		})
	users = newTable("search_users", []string{"username", "avatarurl"}, "id::text, username, avatarurl", "",
		func(c search.Change) ([]any, error) {
			return append([]any{c.User.Username, c.User.AvatarURL}, textRow(c.User.Username)...), nil
		})
)

func tableOf(k search.Kind) *table {
	switch k {
	case search.KindSong:
		return songs
	case search.KindArtist:
		return artists
	case search.KindCollection:
		return collections
	default:
		return users // Canonical accepts only the four kinds
	}
}
