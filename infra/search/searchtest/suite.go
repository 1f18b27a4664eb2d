package searchtest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/hustmusik/backend/infra/search"
)

// Run runs the whole suite. newIndex returns an empty index of its own for
// every call (the suite loads it and, for the write tests, changes it).
func Run(t *testing.T, newIndex func(t *testing.T) search.Index) {
	t.Run("catalog", func(t *testing.T) {
		idx := newIndex(t)
		if err := idx.Apply(context.Background(), corpus()); err != nil {
			t.Fatalf("load corpus: %v", err)
		}
		t.Run("folding", func(t *testing.T) { testFolding(t, idx) })
		t.Run("prefix", func(t *testing.T) { testPrefix(t, idx) })
		t.Run("typos", func(t *testing.T) { testTypos(t, idx) })
		t.Run("ranking", func(t *testing.T) { testRanking(t, idx) })
		t.Run("pagination", func(t *testing.T) { testPagination(t, idx) })
		t.Run("collections and privacy", func(t *testing.T) { testCollections(t, idx) })
		t.Run("documents round trip", func(t *testing.T) { testRoundTrip(t, idx) })
		t.Run("never null", func(t *testing.T) { testNeverNull(t, idx) })
	})
	t.Run("versions", func(t *testing.T) { testVersions(t, newIndex(t)) })
	t.Run("deletes", func(t *testing.T) { testDeletes(t, newIndex(t)) })
	t.Run("visibility change", func(t *testing.T) { testVisibilityChange(t, newIndex(t)) })
	t.Run("invalid batch writes nothing", func(t *testing.T) { testInvalidBatch(t, newIndex(t)) })
	t.Run("reset", func(t *testing.T) { testReset(t, newIndex(t)) })
}

func query(t *testing.T, term string) search.Query {
	t.Helper()
	q, err := search.ParseQuery(term)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", term, err)
	}
	return q
}

func songTitles(t *testing.T, idx search.Index, term string, page, limit int) []string {
	t.Helper()
	docs, err := idx.Songs(context.Background(), query(t, term), page, limit)
	if err != nil {
		t.Fatalf("Songs(%q): %v", term, err)
	}
	if docs == nil {
		t.Fatalf("Songs(%q) returned nil, want a non-nil slice", term)
	}
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Title)
	}
	return out
}

func artistNames(t *testing.T, idx search.Index, term string) []string {
	t.Helper()
	docs, err := idx.Artists(context.Background(), query(t, term), 1, 30)
	if err != nil {
		t.Fatalf("Artists(%q): %v", term, err)
	}
	if docs == nil {
		t.Fatalf("Artists(%q) returned nil", term)
	}
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Name)
	}
	return out
}

func userNames(t *testing.T, idx search.Index, term string) []string {
	t.Helper()
	docs, err := idx.Users(context.Background(), query(t, term), 1, 30)
	if err != nil {
		t.Fatalf("Users(%q): %v", term, err)
	}
	if docs == nil {
		t.Fatalf("Users(%q) returned nil", term)
	}
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Username)
	}
	return out
}

func albumTitles(t *testing.T, idx search.Index, term string) []string {
	t.Helper()
	docs, err := idx.Albums(context.Background(), query(t, term), 1, 30)
	if err != nil {
		t.Fatalf("Albums(%q): %v", term, err)
	}
	return collectionTitles(t, docs)
}

func playlistTitles(t *testing.T, idx search.Index, term, viewer string) []string {
	t.Helper()
	docs, err := idx.Playlists(context.Background(), query(t, term), viewer, 1, 30)
	if err != nil {
		t.Fatalf("Playlists(%q, %q): %v", term, viewer, err)
	}
	return collectionTitles(t, docs)
}

func collectionTitles(t *testing.T, docs []search.CollectionDoc) []string {
	t.Helper()
	if docs == nil {
		t.Fatal("collection search returned nil")
	}
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Title)
	}
	return out
}

type expectation struct {
	term string
	want []string
}

func check(t *testing.T, what string, search func(t *testing.T, term string) []string, cases []expectation) {
	t.Helper()
	for _, c := range cases {
		if got := search(t, c.term); !slices.Equal(got, c.want) {
			t.Errorf("%s %q = %q, want %q", what, c.term, got, c.want)
		}
	}
}

func songs20(idx search.Index) func(t *testing.T, term string) []string {
	return func(t *testing.T, term string) []string { return songTitles(t, idx, term, 1, 20) }
}

func testFolding(t *testing.T, idx search.Index) {
	check(t, "artists", func(t *testing.T, term string) []string { return artistNames(t, idx, term) }, []expectation{
		{"den vau", []string{"Đen Vâu"}},
		{"DEN VAU", []string{"Đen Vâu"}},
		{"Đen Vâu", []string{"Đen Vâu"}},
		{"đen", []string{"Đen Vâu"}},
		{"hoa minzy", []string{"Hòa Minzy"}},
		{"Hoà Minzy", []string{"Hòa Minzy"}}, // the other tone-mark placement
		{"my tam", []string{"Mỹ Tâm"}},
		{"ho ngoc ha", []string{"Hồ Ngọc Hà"}},
		{"royksopp", []string{"Røyksopp"}},
		{"strasse", []string{"Straße Band"}},
		{"bts", []string{"BTS (방탄소년단)"}},
		{"방탄소년단", []string{"BTS (방탄소년단)"}},
	})
	check(t, "songs", songs20(idx), []expectation{
		{"chung ta cua hien tai", []string{"Chúng Ta Của Hiện Tại"}},
		{"di ve nha", []string{"Đi Về Nhà"}},
		{"straße", []string{"Straße der Lieder"}},
		{"봄날", []string{"봄날"}},
	})
	check(t, "users", func(t *testing.T, term string) []string { return userNames(t, idx, term) }, []expectation{
		{"duc", []string{"Trần Đức Bo"}},
		{"TRAN", []string{"Trần Đức Bo"}},
	})
}

func testPrefix(t *testing.T, idx search.Index) {
	check(t, "songs", songs20(idx), []expectation{
		{"chun", []string{"Chúng Ta Của Hiện Tại"}},
		{"chung t", []string{"Chúng Ta Của Hiện Tại"}},
		{"lac tr", []string{"Lạc Trôi"}},
		{"봄", []string{"봄날"}},
		{"dyn", []string{"Dynamite"}},
	})
	check(t, "artists", func(t *testing.T, term string) []string { return artistNames(t, idx, term) }, []expectation{
		// "son" is typed exactly as Son Tung Cover spells it, so it ranks first.
		{"son t", []string{"Son Tung Cover", "Sơn Tùng M-TP"}},
		{"Røyk", []string{"Røyksopp"}},
		{"방탄", []string{"BTS (방탄소년단)"}},
		{"mỹ", []string{"Mỹ Tâm"}},
	})
}

func testTypos(t *testing.T, idx search.Index) {
	check(t, "artists", func(t *testing.T, term string) []string { return artistNames(t, idx, term) }, []expectation{
		{"adelle", []string{"Adele"}}, // insertion
		{"adela", []string{"Adele"}},  // substitution
		{"strase", []string{"Straße Band"}},
		{"adle", []string{}},         // four letters: no typo forgiven
		{"adeel", []string{"Adele"}}, // transposition
	})
	check(t, "songs", songs20(idx), []expectation{
		{"hellp", []string{"Hello", "Hello Vietnam"}},
		{"hlelo", []string{"Hello", "Hello Vietnam"}},
		{"helxx", []string{}},            // two edits away
		{"tuongg", []string{"Tương Tư"}}, // "thuong" is two edits away
		// one edit from "tuong": tuong itself (and a whole-word match), duong, thuong.
		{"tuong", []string{"Tương Tư", "Đường Tôi Chở Em Về", "Thương Em"}},
		{"dynamit", []string{"Dynamite"}}, // a prefix, and one edit too
	})
}

func testRanking(t *testing.T, idx search.Index) {
	check(t, "songs", songs20(idx), []expectation{
		// The right diacritics beat popularity; folded ties go by views.
		{"Bạc", []string{"Bạc Phận", "Bác Sĩ", "Bắc Bling"}},
		{"bac", []string{"Bác Sĩ", "Bắc Bling", "Bạc Phận"}},
		{"Bắc", []string{"Bắc Bling", "Bác Sĩ", "Bạc Phận"}},
		{"anh", []string{"Hãy Trao Cho Anh", "Nơi Này Có Anh", "Ánh Nắng Của Anh"}},
		{"ánh", []string{"Ánh Nắng Của Anh", "Hãy Trao Cho Anh", "Nơi Này Có Anh"}},
		// A whole word beats a prefix even of the most played song.
		{"em", []string{"Em Của Ngày Hôm Qua", "Đường Tôi Chở Em Về", "Thương Em", "Emily"}},
		{"hello", []string{"Hello", "Hello Vietnam"}},
	})
	check(t, "artists", func(t *testing.T, term string) []string { return artistNames(t, idx, term) }, []expectation{
		{"Sơn Tùng", []string{"Sơn Tùng M-TP", "Son Tung Cover"}},
		{"son tung", []string{"Son Tung Cover", "Sơn Tùng M-TP"}},
		{"ho", []string{"Hồ Ngọc Hà", "Hòa Minzy"}},
	})
	check(t, "users", func(t *testing.T, term string) []string { return userNames(t, idx, term) }, []expectation{
		// Equal scores fall back to the folded name.
		{"nguyen", []string{"linh.nguyen", "nguyen van binh", "Nguyễn Văn An"}},
		{"Nguyễn", []string{"Nguyễn Văn An", "linh.nguyen", "nguyen van binh"}},
	})
}

func testPagination(t *testing.T, idx search.Index) {
	all := fillersByViews()
	if got := songTitles(t, idx, "mua", 1, 50); !slices.Equal(got, all[:50]) {
		t.Errorf("mua page 1 = %q, want %q", got, all[:50])
	}
	if got := songTitles(t, idx, "mưa", 3, 25); !slices.Equal(got, all[50:75]) {
		t.Errorf("mưa page 3 by 25 = %q, want %q", got, all[50:75])
	}
	if got := songTitles(t, idx, "mua", 10, 25); !slices.Equal(got, all[225:]) {
		t.Errorf("mua page 10 by 25 = %q, want the last 15 %q", got, all[225:])
	}
	if got := songTitles(t, idx, "mua", 11, 25); len(got) != 0 {
		t.Errorf("mua page 11 = %q, want none", got)
	}
	if got := songTitles(t, idx, "mua rao", 1, 50); len(got) != fillerCount/len(fillerWords) {
		t.Errorf("mua rao found %d songs, want %d", len(got), fillerCount/len(fillerWords))
	}
	var seen []string
	for page := 1; ; page++ {
		got := songTitles(t, idx, "mua", page, 7)
		if len(got) == 0 {
			break
		}
		seen = append(seen, got...)
	}
	if !slices.Equal(seen, all) {
		t.Errorf("paging by 7 returned %d songs, not the %d in order", len(seen), len(all))
	}
}

func testCollections(t *testing.T, idx search.Index) {
	u1, u2, manager := ID("user:u1"), ID("user:u2"), ID("user:manager")
	if got, want := albumTitles(t, idx, "sky"), []string{"Sky Decade", "Sky Single", "Sky Tour"}; !slices.Equal(got, want) {
		t.Errorf("albums sky = %q, want %q (no private album, no playlist)", got, want)
	}
	cases := []struct {
		term, viewer string
		want         []string
	}{
		{"sky", "", []string{"Sky Gym", "Sky Playlist Chill"}},
		{"sky", u1, []string{"Sky Gym", "Sky Playlist Chill", "Sky Private Mix"}},
		{"sky", u2, []string{"Sky Gym", "Sky Nhạc Buồn", "Sky Playlist Chill"}},
		{"sky", manager, []string{"Sky Gym", "Sky Playlist Chill"}},
		{"sky nhac", u2, []string{"Sky Nhạc Buồn"}},
		{"sky nhac", u1, []string{}},
		{"secret", manager, []string{}},
	}
	for _, c := range cases {
		if got := playlistTitles(t, idx, c.term, c.viewer); !slices.Equal(got, c.want) {
			t.Errorf("playlists %q for viewer %q = %q, want %q", c.term, c.viewer, got, c.want)
		}
	}
}

func testRoundTrip(t *testing.T, idx search.Index) {
	ctx := context.Background()
	s, err := idx.Songs(ctx, query(t, "Lạc Trôi"), 1, 1)
	if err != nil || len(s) != 1 {
		t.Fatalf("Songs(Lạc Trôi) = %v, %v", s, err)
	}
	if want := songDoc(songs[1]); !reflect.DeepEqual(s[0], want) {
		t.Errorf("song = %+v, want %+v", s[0], want)
	}
	c, err := idx.Playlists(ctx, query(t, "Sky Private Mix"), ID("user:u1"), 1, 1)
	if err != nil || len(c) != 1 {
		t.Fatalf("Playlists(Sky Private Mix) = %v, %v", c, err)
	}
	if want := collectionDoc(collections[5]); c[0] != want {
		t.Errorf("collection = %+v, want %+v", c[0], want)
	}
	a, err := idx.Artists(ctx, query(t, "adele"), 1, 1)
	if err != nil || len(a) != 1 {
		t.Fatalf("Artists(adele) = %v, %v", a, err)
	}
	if want := (search.ArtistDoc{ID: ID("artist:Adele"), Name: "Adele", AvatarURL: "https://img.example/a.png"}); a[0] != want {
		t.Errorf("artist = %+v, want %+v", a[0], want)
	}
	u, err := idx.Users(ctx, query(t, "linh"), 1, 1)
	if err != nil || len(u) != 1 {
		t.Fatalf("Users(linh) = %v, %v", u, err)
	}
	if want := (search.UserDoc{ID: ID("user:linh.nguyen"), Username: "linh.nguyen"}); u[0] != want {
		t.Errorf("user = %+v, want %+v", u[0], want)
	}
}

func testNeverNull(t *testing.T, idx search.Index) {
	ctx := context.Background()
	q := query(t, "zzzz")
	if s, err := idx.Songs(ctx, q, 1, 10); err != nil || s == nil || len(s) != 0 {
		t.Errorf("Songs(zzzz) = %#v, %v; want an empty, non-nil slice", s, err)
	}
	if a, err := idx.Artists(ctx, q, 1, 10); err != nil || a == nil || len(a) != 0 {
		t.Errorf("Artists(zzzz) = %#v, %v", a, err)
	}
	if c, err := idx.Albums(ctx, q, 1, 10); err != nil || c == nil || len(c) != 0 {
		t.Errorf("Albums(zzzz) = %#v, %v", c, err)
	}
	if c, err := idx.Playlists(ctx, q, "", 1, 10); err != nil || c == nil || len(c) != 0 {
		t.Errorf("Playlists(zzzz) = %#v, %v", c, err)
	}
	if u, err := idx.Users(ctx, q, 1, 10); err != nil || u == nil || len(u) != 0 {
		t.Errorf("Users(zzzz) = %#v, %v", u, err)
	}
	// A song indexed without artists comes back with [] for them.
	s, err := idx.Songs(ctx, query(t, "bác sĩ"), 1, 10)
	if err != nil || len(s) != 1 {
		t.Fatalf("Songs(bác sĩ) = %v, %v", s, err)
	}
	if s[0].Artists == nil {
		t.Error("a song without artists has nil Artists, want []")
	}
	if s, err := idx.Songs(ctx, query(t, "mua"), 1, 0); err != nil || s == nil || len(s) != 0 {
		t.Errorf("Songs with limit 0 = %#v, %v; want []", s, err)
	}
}

func mustApply(t *testing.T, idx search.Index, changes ...search.Change) {
	t.Helper()
	if err := idx.Apply(context.Background(), changes); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func titled(id, title string, views int64) search.SongDoc {
	return search.SongDoc{ID: id, Title: title, Views: views}
}

func testVersions(t *testing.T, idx search.Index) {
	id := ID("versioned")
	mustApply(t, idx, search.UpsertSong(titled(id, "Alpha Song", 1), 10))
	mustApply(t, idx, search.UpsertSong(titled(id, "Beta Song", 2), 5))   // older: ignored
	mustApply(t, idx, search.UpsertSong(titled(id, "Gamma Song", 3), 10)) // same version: ignored
	if got := songTitles(t, idx, "song", 1, 10); !slices.Equal(got, []string{"Alpha Song"}) {
		t.Fatalf("after stale writes: %q, want [Alpha Song]", got)
	}
	mustApply(t, idx, search.UpsertSong(titled(id, "Gamma Song", 3), 11))
	if got := songTitles(t, idx, "alpha", 1, 10); len(got) != 0 {
		t.Errorf("alpha still found after the rename: %q", got)
	}
	if got := songTitles(t, idx, "gamma", 1, 10); !slices.Equal(got, []string{"Gamma Song"}) {
		t.Errorf("gamma = %q, want [Gamma Song]", got)
	}
	// Out of order inside one batch: the newer change wins.
	other := ID("versioned-2")
	mustApply(t, idx,
		search.UpsertSong(titled(other, "Delta Song", 1), 7),
		search.UpsertSong(titled(other, "Epsilon Song", 1), 6),
	)
	if got := songTitles(t, idx, "song", 1, 10); !slices.Equal(got, []string{"Gamma Song", "Delta Song"}) {
		t.Errorf("song = %q, want [Gamma Song Delta Song]", got)
	}
	// Replaying everything again changes nothing.
	mustApply(t, idx,
		search.UpsertSong(titled(id, "Alpha Song", 1), 10),
		search.UpsertSong(titled(id, "Gamma Song", 3), 11),
		search.UpsertSong(titled(other, "Delta Song", 1), 7),
	)
	if got := songTitles(t, idx, "song", 1, 10); !slices.Equal(got, []string{"Gamma Song", "Delta Song"}) {
		t.Errorf("after a replay: %q", got)
	}
}

func testDeletes(t *testing.T, idx search.Index) {
	id := ID("deleted")
	mustApply(t, idx, search.UpsertSong(titled(id, "Doomed Song", 1), 1))
	mustApply(t, idx, search.Delete(search.KindSong, id, 2))
	if got := songTitles(t, idx, "doomed", 1, 10); len(got) != 0 {
		t.Fatalf("deleted song still found: %q", got)
	}
	mustApply(t, idx, search.UpsertSong(titled(id, "Doomed Song", 1), 1)) // a late, older write
	if got := songTitles(t, idx, "doomed", 1, 10); len(got) != 0 {
		t.Fatalf("an older write resurrected a deleted song: %q", got)
	}
	mustApply(t, idx, search.UpsertSong(titled(id, "Doomed Song Returns", 1), 3))
	if got := songTitles(t, idx, "doomed", 1, 10); !slices.Equal(got, []string{"Doomed Song Returns"}) {
		t.Fatalf("a newer write after the delete: %q", got)
	}
	// A delete that arrives before the document's older creation.
	early := ID("deleted-early")
	mustApply(t, idx, search.Delete(search.KindArtist, early, 9))
	mustApply(t, idx, search.UpsertArtist(search.ArtistDoc{ID: early, Name: "Ghost Artist"}, 8))
	if got := artistNames(t, idx, "ghost"); len(got) != 0 {
		t.Fatalf("an artist created before its (already applied) delete is found: %q", got)
	}
	// Deletes of every kind.
	col := collectionDoc(collections[0])
	user := search.UserDoc{ID: ID("user:gone"), Username: "gone user"}
	mustApply(t, idx, search.UpsertCollection(col, 20), search.UpsertUser(user, 21))
	if got := albumTitles(t, idx, "sky"); len(got) != 1 {
		t.Fatalf("album not indexed: %q", got)
	}
	mustApply(t, idx, search.Delete(search.KindCollection, col.ID, 22), search.Delete(search.KindUser, user.ID, 23))
	if got := albumTitles(t, idx, "sky"); len(got) != 0 {
		t.Errorf("deleted album found: %q", got)
	}
	if got := userNames(t, idx, "gone"); len(got) != 0 {
		t.Errorf("deleted user found: %q", got)
	}
}

func testVisibilityChange(t *testing.T, idx search.Index) {
	doc := collectionDoc(collections[4]) // public playlist of u1
	mustApply(t, idx, search.UpsertCollection(doc, 1))
	stranger := ID("user:stranger")
	if got := playlistTitles(t, idx, "chill", stranger); len(got) != 1 {
		t.Fatalf("public playlist not found: %q", got)
	}
	doc.Visibility = search.VisibilityPrivate
	mustApply(t, idx, search.UpsertCollection(doc, 2))
	if got := playlistTitles(t, idx, "chill", stranger); len(got) != 0 {
		t.Errorf("a playlist made private is still found by a stranger: %q", got)
	}
	if got := playlistTitles(t, idx, "chill", doc.Owner.ID); len(got) != 1 {
		t.Errorf("its owner no longer finds it: %q", got)
	}
}

func testInvalidBatch(t *testing.T, idx search.Index) {
	err := idx.Apply(context.Background(), []search.Change{
		search.UpsertSong(titled(ID("fine"), "Fine Song", 1), 1),
		search.UpsertSong(titled("not-a-uuid", "Broken Song", 1), 2),
	})
	if !errors.Is(err, search.ErrInvalidChange) {
		t.Fatalf("Apply with an invalid change: %v, want ErrInvalidChange", err)
	}
	if got := songTitles(t, idx, "song", 1, 10); len(got) != 0 {
		t.Errorf("a batch with an invalid change wrote %q", got)
	}
	if err := idx.Apply(context.Background(), nil); err != nil {
		t.Errorf("Apply(nil): %v", err)
	}
}

func testReset(t *testing.T, idx search.Index) {
	id := ID("reset")
	mustApply(t, idx, search.UpsertSong(titled(id, "Reset Song", 1), 50), search.Delete(search.KindUser, ID("user:x"), 60))
	if err := idx.Reset(context.Background()); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if got := songTitles(t, idx, "reset", 1, 10); len(got) != 0 {
		t.Fatalf("found after reset: %q", got)
	}
	// A rebuild replays from the start: low versions must be accepted again.
	mustApply(t, idx, search.UpsertSong(titled(id, "Reset Song", 1), 1), search.UpsertUser(search.UserDoc{ID: ID("user:x"), Username: "xavier"}, 2))
	if got := songTitles(t, idx, "reset", 1, 10); !slices.Equal(got, []string{"Reset Song"}) {
		t.Errorf("after reset and replay: %q", got)
	}
	if got := userNames(t, idx, "xavier"); !slices.Equal(got, []string{"xavier"}) {
		t.Errorf("a tombstone survived the reset: %q", got)
	}
}
