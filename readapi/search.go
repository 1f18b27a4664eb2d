package readapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/httpapi"
	"github.com/hustmusik/backend/infra/search"
)

// Default page sizes of the search endpoints (the wire contract), and how
// many of each kind the default search shows.
const (
	searchSongsLimit  = 20
	searchOthersLimit = 30
	searchFewLimit    = 5
)

// SearchSong is a song found by a search.
type SearchSong struct {
	ID           string             `json:"id"`
	Title        string             `json:"title"`
	ThumbnailURL string             `json:"thumbnailurl"`
	Duration     int                `json:"duration"`
	Views        int64              `json:"views"`
	ReleaseDate  string             `json:"releasedate"`
	Genre        string             `json:"genre"`
	Artists      []SearchSongArtist `json:"artists"`
}

// SearchSongArtist is an artist credited on a found song.
type SearchSongArtist struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SearchArtist is an artist found by a search.
type SearchArtist struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatarurl"`
}

// SearchCollection is an album or playlist found by a search.
type SearchCollection struct {
	ID           string      `json:"id"`
	Title        string      `json:"title"`
	Description  string      `json:"description"`
	ThumbnailURL string      `json:"thumbnailurl"`
	Type         string      `json:"type"`
	Owner        SearchOwner `json:"owner"`
}

// SearchOwner is the owner of a found collection.
type SearchOwner struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	AvatarURL string `json:"avatarurl"`
}

// SearchUser is a user found by a search.
type SearchUser struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	AvatarURL string `json:"avatarurl"`
}

// SearchAll is the answer of the default search: a few of each kind.
type SearchAll struct {
	Songs     []SearchSong       `json:"songs"`
	Artists   []SearchArtist     `json:"artists"`
	Albums    []SearchCollection `json:"albums"`
	Playlists []SearchCollection `json:"playlists"`
	Users     []SearchUser       `json:"users"`
}

// Search answers the search queries from the search index.
type Search struct {
	index search.Index
	cache *answerCache // of the endpoints' answers; nil: none
}

// NewSearch makes the search queries on index.
func NewSearch(index search.Index) *Search { return &Search{index: index} }

// CachedBy makes the search endpoints keep their answers while versions
// says the search projector has committed nothing new (see answerCache), up
// to max answers: what a search engine's request cache does (the
// Elasticsearch shard request cache keeps results until the next refresh).
// Only for an index whose writes are searchable once the projector commits
// them (the PostgreSQL index; Elasticsearch written with refresh=wait_for).
func (s *Search) CachedBy(versions Versioner, max int) *Search {
	s.cache = newAnswerCache(versions, max, "search")
	return s
}

// searchKey names one answer: the endpoint, what the query means (its
// folded and diacritics-kept words), the page and who asks (their own
// private playlists are among the hits).
func searchKey(kind string, q search.Query, page, limit int, viewer string) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%d\x00%s", kind, strings.Join(q.RawWords, " "), q.Folded, page, limit, viewer)
}

// Songs is one page of songs matching q.
func (s *Search) Songs(ctx context.Context, q search.Query, page, limit int) ([]SearchSong, error) {
	docs, err := s.index.Songs(ctx, q, page, limit)
	out := make([]SearchSong, 0, len(docs))
	for _, d := range docs {
		artists := make([]SearchSongArtist, 0, len(d.Artists))
		for _, a := range d.Artists {
			artists = append(artists, SearchSongArtist{ID: a.ID, Name: a.Name})
		}
		out = append(out, SearchSong{ID: d.ID, Title: d.Title, ThumbnailURL: d.ThumbnailURL, Duration: d.Duration,
			Views: d.Views, ReleaseDate: d.ReleaseDate, Genre: d.Genre, Artists: artists})
	}
	return out, err
}

// Artists is one page of artists matching q.
func (s *Search) Artists(ctx context.Context, q search.Query, page, limit int) ([]SearchArtist, error) {
	docs, err := s.index.Artists(ctx, q, page, limit)
	out := make([]SearchArtist, 0, len(docs))
	for _, d := range docs {
		out = append(out, SearchArtist{ID: d.ID, Name: d.Name, AvatarURL: d.AvatarURL})
	}
	return out, err
}

// Albums is one page of public albums, EPs and singles matching q.
func (s *Search) Albums(ctx context.Context, q search.Query, page, limit int) ([]SearchCollection, error) {
	docs, err := s.index.Albums(ctx, q, page, limit)
	return searchCollections(docs), err
}

// Playlists is one page of the playlists and mixes matching q that viewerID
// may see: the public ones and their own ("" is anonymous).
func (s *Search) Playlists(ctx context.Context, q search.Query, viewerID string, page, limit int) ([]SearchCollection, error) {
	docs, err := s.index.Playlists(ctx, q, viewerID, page, limit)
	return searchCollections(docs), err
}

// Users is one page of users matching q.
func (s *Search) Users(ctx context.Context, q search.Query, page, limit int) ([]SearchUser, error) {
	docs, err := s.index.Users(ctx, q, page, limit)
	out := make([]SearchUser, 0, len(docs))
	for _, d := range docs {
		out = append(out, SearchUser{ID: d.ID, Username: d.Username, AvatarURL: d.AvatarURL})
	}
	return out, err
}

func searchCollections(docs []search.CollectionDoc) []SearchCollection {
	out := make([]SearchCollection, 0, len(docs))
	for _, d := range docs {
		out = append(out, SearchCollection{ID: d.ID, Title: d.Title, Description: d.Description,
			ThumbnailURL: d.ThumbnailURL, Type: d.Type,
			Owner: SearchOwner{ID: d.Owner.ID, Username: d.Owner.Username, AvatarURL: d.Owner.AvatarURL}})
	}
	return out
}

// All is the default search: the first few of every kind, searched at once.
func (s *Search) All(ctx context.Context, q search.Query, viewerID string) (SearchAll, error) {
	var all SearchAll
	errs := make([]error, 5)
	var wg sync.WaitGroup
	wg.Go(func() { all.Songs, errs[0] = s.Songs(ctx, q, 1, searchFewLimit) })
	wg.Go(func() { all.Artists, errs[1] = s.Artists(ctx, q, 1, searchFewLimit) })
	wg.Go(func() { all.Albums, errs[2] = s.Albums(ctx, q, 1, searchFewLimit) })
	wg.Go(func() { all.Playlists, errs[3] = s.Playlists(ctx, q, viewerID, 1, searchFewLimit) })
	wg.Go(func() { all.Users, errs[4] = s.Users(ctx, q, 1, searchFewLimit) })
	wg.Wait()
	return all, errors.Join(errs...)
}

// searchTerm parses the :term of a search URL (400 when it is empty or too long).
func searchTerm(c *gin.Context) (search.Query, error) {
	return search.ParseQuery(c.Param("term"))
}

// GetAll serves GET /v1/search/:term.
func (s *Search) GetAll(c *gin.Context) {
	q, err := searchTerm(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	viewer := httpapi.Principal(c).UserID
	s.cache.serve(c, searchKey("all", q, 1, searchFewLimit, viewer), func() (any, error) {
		all, err := s.All(c.Request.Context(), q, viewer)
		return gin.H{"data": all}, err
	})
}

// GetEmpty serves GET /v1/search (a search for nothing, also what
// /v1/search/ becomes): 400, like a term of spaces.
func (s *Search) GetEmpty(c *gin.Context) {
	_, err := search.ParseQuery("")
	httpapi.Error(c, err)
}

// searchKind serves one kind's endpoint: its page of results under key;
// viewer is who asks when the results depend on it.
func searchKind[T any](s *Search, c *gin.Context, defaultLimit int, key, viewer string,
	find func(ctx context.Context, q search.Query, page, limit int) ([]T, error)) {
	q, err := searchTerm(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	page, limit, err := httpapi.PageWithLimit(c, defaultLimit)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	s.cache.serve(c, searchKey(key, q, page, limit, viewer), func() (any, error) {
		found, err := find(c.Request.Context(), q, page, limit)
		if found == nil {
			found = []T{}
		}
		return gin.H{"data": map[string][]T{key: found}}, err
	})
}

// GetSongs serves GET /v1/search/:term/songs.
func (s *Search) GetSongs(c *gin.Context) { searchKind(s, c, searchSongsLimit, "songs", "", s.Songs) }

// GetArtists serves GET /v1/search/:term/artists.
func (s *Search) GetArtists(c *gin.Context) {
	searchKind(s, c, searchOthersLimit, "artists", "", s.Artists)
}

// GetAlbums serves GET /v1/search/:term/albums.
func (s *Search) GetAlbums(c *gin.Context) {
	searchKind(s, c, searchOthersLimit, "albums", "", s.Albums)
}

// GetPlaylists serves GET /v1/search/:term/playlists: the public ones, plus
// the caller's own private ones.
func (s *Search) GetPlaylists(c *gin.Context) {
	viewer := httpapi.Principal(c).UserID
	searchKind(s, c, searchOthersLimit, "playlists", viewer, func(ctx context.Context, q search.Query, page, limit int) ([]SearchCollection, error) {
		return s.Playlists(ctx, q, viewer, page, limit)
	})
}

// GetUsers serves GET /v1/search/:term/users.
func (s *Search) GetUsers(c *gin.Context) { searchKind(s, c, searchOthersLimit, "users", "", s.Users) }
