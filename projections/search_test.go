package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/search"
	"github.com/hustmusik/backend/infra/search/pgsearch"
)

// searchWorld is a search projector on real PostgreSQL with pgsearch, run by
// a real runtime over a real event store.
type searchWorld struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	index *pgsearch.Index
	p     *Search
	store eventstore.Store
	rt    *Runtime
	stop  func()
}

func newSearchWorld(t *testing.T) *searchWorld {
	t.Helper()
	pool, store := libraryStore(t)
	index, err := pgsearch.New(pgsearch.Config{Pool: pool}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewSearch(SearchConfig{Index: index})
	if err != nil {
		t.Fatal(err)
	}
	w := &searchWorld{t: t, ctx: context.Background(), pool: pool, index: index, p: p, store: store}
	w.rt = newRuntime(t, fast(3), pool, store, p) // small batches: documents span batches
	w.stop = started(t, w.rt)
	return w
}

// emit appends events to a stream, waits for the projector to apply them
// and returns the position of the last one.
func (w *searchWorld) emit(stream string, events ...domain.Event) uint64 {
	w.t.Helper()
	appendDomainEvents(w.t, w.store, stream, events...)
	head, err := w.store.Head(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	waitFor(w.t, w.rt, head)
	return head
}

func mustQuery(t *testing.T, term string) search.Query {
	t.Helper()
	q, err := search.ParseQuery(term)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// songs answers a song search as "title [artist, artist] views" lines.
func (w *searchWorld) songs(term string) []string {
	w.t.Helper()
	docs, err := w.index.Songs(w.ctx, mustQuery(w.t, term), 1, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, d := range docs {
		var names []string
		for _, a := range d.Artists {
			names = append(names, a.Name)
		}
		out = append(out, fmt.Sprintf("%s [%s] %d", d.Title, strings.Join(names, ", "), d.Views))
	}
	return out
}

func (w *searchWorld) artists(term string) []string {
	w.t.Helper()
	docs, err := w.index.Artists(w.ctx, mustQuery(w.t, term), 1, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Name+" "+d.AvatarURL)
	}
	return out
}

func (w *searchWorld) users(term string) []string {
	w.t.Helper()
	docs, err := w.index.Users(w.ctx, mustQuery(w.t, term), 1, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Username+" "+d.AvatarURL)
	}
	return out
}

func collectionLines(docs []search.CollectionDoc) []string {
	out := []string{}
	for _, d := range docs {
		out = append(out, fmt.Sprintf("%s (%s, %s) by %s %s", d.Title, d.Type, d.Visibility, d.Owner.Username, d.Owner.AvatarURL))
	}
	return out
}

func (w *searchWorld) albums(term string) []string {
	w.t.Helper()
	docs, err := w.index.Albums(w.ctx, mustQuery(w.t, term), 1, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	return collectionLines(docs)
}

func (w *searchWorld) playlists(term, viewer string) []string {
	w.t.Helper()
	docs, err := w.index.Playlists(w.ctx, mustQuery(w.t, term), viewer, 1, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	return collectionLines(docs)
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func strPtr(s string) *string { return &s }

func TestSearchProjector(t *testing.T) {
	w := newSearchWorld(t)
	lan, minh, admin := uuid.NewString(), uuid.NewString(), uuid.NewString()
	tung, den, solo := uuid.NewString(), uuid.NewString(), uuid.NewString()
	s1, s2, s3 := uuid.NewString(), uuid.NewString(), uuid.NewString()
	album, mine, secret, minhs := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()

	w.emit(domain.UserStream(admin), domain.UserRegistered{UserID: admin, Username: "Quản trị", Role: domain.RoleAdmin})
	w.emit(domain.UserStream(lan), domain.UserRegistered{UserID: lan, Username: "Lan", AvatarURL: "/lan.png", Role: domain.RoleUser})
	w.emit(domain.UserStream(minh), domain.UserRegistered{UserID: minh, Username: "Minh", Role: domain.RoleUser})
	w.emit(domain.ArtistStream(tung), domain.ArtistAdded{ArtistID: tung, Name: "Sơn Tùng M-TP", AvatarURL: "/tung.png"})
	w.emit(domain.ArtistStream(den), domain.ArtistAdded{ArtistID: den, Name: "Đen Vâu"})
	w.emit(domain.ArtistStream(solo), domain.ArtistAdded{ArtistID: solo, Name: "Solo Tùng"})
	w.emit(domain.SongStream(s1), domain.SongAdded{SongID: s1, Title: "Chúng Ta Của Hiện Tại", ArtistIDs: []string{tung},
		Duration: 301, Genre: "V-Pop", ReleaseDate: "2020-12-20"})
	w.emit(domain.SongStream(s2), domain.SongAdded{SongID: s2, Title: "Bài Này Chill Phết", ArtistIDs: []string{den, tung}})
	w.emit(domain.SongStream(s3), domain.SongAdded{SongID: s3, Title: "Chúng Ta Không Thuộc Về Nhau", ArtistIDs: []string{tung}})
	w.emit(domain.CollectionStream(album), domain.CollectionCreated{CollectionID: album, Title: "Sky Tour",
		Type: domain.CollectionAlbum, Visibility: domain.Public, OwnerID: admin})
	w.emit(domain.CollectionStream(mine), domain.CollectionCreated{CollectionID: mine, Title: "Nhạc chill của Lan",
		Type: domain.CollectionPlaylist, Visibility: domain.Public, OwnerID: lan})
	w.emit(domain.CollectionStream(secret), domain.CollectionCreated{CollectionID: secret, Title: "Chill bí mật",
		Type: domain.CollectionMix, Visibility: domain.Public, OwnerID: lan})
	w.emit(domain.CollectionStream(minhs), domain.CollectionCreated{CollectionID: minhs, Title: "Minh chill",
		Type: domain.CollectionPlaylist, Visibility: domain.Public, OwnerID: minh})

	wantLines(t, "songs 'chung ta'", w.songs("chung ta"),
		"Chúng Ta Của Hiện Tại [Sơn Tùng M-TP] 0", "Chúng Ta Không Thuộc Về Nhau [Sơn Tùng M-TP] 0")
	wantLines(t, "songs 'bai nay'", w.songs("bai nay"), "Bài Này Chill Phết [Đen Vâu, Sơn Tùng M-TP] 0")
	wantLines(t, "artists 'den vau'", w.artists("den vau"), "Đen Vâu ")
	wantLines(t, "playlists 'chill' anonymous", w.playlists("chill", ""),
		"Chill bí mật (Mix, Public) by Lan /lan.png", "Minh chill (Playlist, Public) by Minh ",
		"Nhạc chill của Lan (Playlist, Public) by Lan /lan.png")
	wantLines(t, "albums 'sky'", w.albums("sky"), "Sky Tour (Album, Public) by Quản trị ")

	// Views: each stream grant is one, and they order equally scored songs.
	w.emit(domain.SongPlaysStream(s3), domain.StreamGranted{SongID: s3}, domain.StreamGranted{SongID: s3},
		domain.StreamGranted{SongID: s3}, domain.StreamGranted{SongID: s1})
	wantLines(t, "songs 'chung ta' after plays", w.songs("chung ta"),
		"Chúng Ta Không Thuộc Về Nhau [Sơn Tùng M-TP] 3", "Chúng Ta Của Hiện Tại [Sơn Tùng M-TP] 1")

	// A renamed artist renames itself on every song crediting it; a changed
	// description alone leaves the songs alone.
	renamed := w.emit(domain.ArtistStream(tung), domain.ArtistUpdated{ArtistID: tung, Name: strPtr("Sếp Tùng")})
	w.emit(domain.ArtistStream(tung), domain.ArtistUpdated{ArtistID: tung, Description: strPtr("ca sĩ")})
	wantLines(t, "songs 'chill' after the artist's rename", w.songs("chill"), "Bài Này Chill Phết [Đen Vâu, Sếp Tùng] 0")
	wantLines(t, "artists 'sep tung'", w.artists("sep tung"), "Sếp Tùng /tung.png")
	wantLines(t, "artists 'son tung' after the rename", w.artists("son tung"))
	wantLines(t, "artists 'tung'", w.artists("tung"), "Sếp Tùng /tung.png", "Solo Tùng ")

	// A renamed user is the new owner name of their collections.
	w.emit(domain.UserStream(lan), domain.UserProfileChanged{UserID: lan, Username: strPtr("Lan Ngọc"), AvatarURL: strPtr("/ln.png")})
	wantLines(t, "users 'lan'", w.users("lan"), "Lan Ngọc /ln.png")
	wantLines(t, "playlists 'lan' after the owner's rename", w.playlists("lan", ""),
		"Nhạc chill của Lan (Playlist, Public) by Lan Ngọc /ln.png")

	private := domain.Private
	// A playlist made private is found by its owner only.
	w.emit(domain.CollectionStream(secret), domain.CollectionUpdated{CollectionID: secret, Visibility: &private})
	wantLines(t, "'bi mat' for strangers", w.playlists("bi mat", ""))
	wantLines(t, "'bi mat' for Minh", w.playlists("bi mat", minh))
	wantLines(t, "'bi mat' for its owner", w.playlists("bi mat", lan), "Chill bí mật (Mix, Private) by Lan Ngọc /ln.png")

	// Deleted things leave the index: a song, an artist, a collection, and a
	// user with the collections they owned.
	w.emit(domain.SongStream(s3), domain.SongDeleted{SongID: s3, ArtistIDs: []string{tung}})
	w.emit(domain.ArtistStream(solo), domain.ArtistDeleted{ArtistID: solo})
	w.emit(domain.CollectionStream(album), domain.CollectionDeleted{CollectionID: album})
	w.emit(domain.UserStream(minh), domain.UserDeleted{UserID: minh})
	// An Admin still changing the deleted user's playlist does not bring it back.
	w.emit(domain.CollectionStream(minhs), domain.CollectionUpdated{CollectionID: minhs, Title: strPtr("Minh chill 2")})
	wantLines(t, "songs 'chung ta' after a delete", w.songs("chung ta"), "Chúng Ta Của Hiện Tại [Sếp Tùng] 1")
	wantLines(t, "artists 'tung' after a delete", w.artists("tung"), "Sếp Tùng /tung.png")
	wantLines(t, "albums 'sky' after a delete", w.albums("sky"))
	wantLines(t, "users 'minh' after a delete", w.users("minh"))
	wantLines(t, "playlists 'minh' after the owner's delete", w.playlists("minh", minh))
	wantLines(t, "playlists 'chill' at the end", w.playlists("chill", lan),
		"Chill bí mật (Mix, Private) by Lan Ngọc /ln.png", "Nhạc chill của Lan (Playlist, Public) by Lan Ngọc /ln.png")

	// A document's version is the position of the last event that changed
	// it: for s2, its artist's rename (the description change did not touch it).
	var version int64
	if err := w.pool.QueryRow(w.ctx, `SELECT version FROM search_songs WHERE id = $1`, s2).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != int64(renamed) {
		t.Errorf("song %s has version %d, want %d (its artist's rename)", s2, version, renamed)
	}

	// Replaying the log, in any batch size, gives the same answers.
	answers := func() []string {
		var out []string
		for _, term := range []string{"chung ta", "chill", "tung", "lan", "bi mat", "minh", "sky", "den vau"} {
			out = append(out, strings.Join(w.songs(term), "|"), strings.Join(w.artists(term), "|"),
				strings.Join(w.albums(term), "|"), strings.Join(w.playlists(term, lan), "|"),
				strings.Join(w.playlists(term, ""), "|"), strings.Join(w.users(term), "|"))
		}
		return out
	}
	before := answers()
	w.stop()
	for _, batch := range []int{1, 1000} {
		if _, err := Replay(w.ctx, w.pool, w.store, w.p, batch); err != nil {
			t.Fatalf("replay in batches of %d: %v", batch, err)
		}
		if after := answers(); !slices.Equal(after, before) {
			t.Errorf("replay in batches of %d answers differently:\n%q\n%q", batch, after, before)
		}
	}
}
