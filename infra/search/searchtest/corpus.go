// Package searchtest is the one behaviour suite every search.Index
// implementation passes: folding, prefixes, typos, ranking, pagination,
// privacy, versions and deletes, with exact result orders.
package searchtest

import (
	"fmt"
	"sort"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/infra/search"
)

// ID derives a stable UUID from a name, so expectations can name documents.
func ID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("hustmusik-searchtest:"+name)).String()
}

type song struct {
	title   string
	views   int64
	artists []string
}

// songs of the fixed corpus. Views are chosen so that popularity and the
// diacritics/whole-word boosts pull in opposite directions.
var songs = []song{
	{"Chúng Ta Của Hiện Tại", 900, []string{"Sơn Tùng M-TP"}},
	{"Lạc Trôi", 800, []string{"Sơn Tùng M-TP"}},
	{"Bạc Phận", 100, []string{"Jack"}},
	{"Bác Sĩ", 500, nil},
	{"Bắc Bling", 300, []string{"Hòa Minzy"}},
	{"Đi Về Nhà", 700, []string{"Đen Vâu"}},
	{"Hai Triệu Năm", 650, []string{"Đen Vâu"}},
	{"Hello", 1000, []string{"Adele"}},
	{"Hello Vietnam", 300, nil},
	{"Someone Like You", 400, []string{"Adele"}},
	{"Nơi Này Có Anh", 850, []string{"Sơn Tùng M-TP"}},
	{"Hãy Trao Cho Anh", 950, []string{"Sơn Tùng M-TP"}},
	{"Em Của Ngày Hôm Qua", 750, []string{"Sơn Tùng M-TP"}},
	{"Đường Tôi Chở Em Về", 550, nil},
	{"Ánh Nắng Của Anh", 420, nil},
	{"Chạy Ngay Đi", 870, []string{"Sơn Tùng M-TP"}},
	{"Emily", 2000, nil},
	{"Eple", 200, []string{"Røyksopp"}},
	{"봄날", 600, []string{"BTS (방탄소년단)"}},
	{"Dynamite", 990, []string{"BTS (방탄소년단)"}},
	{"Tương Tư", 120, nil},
	{"Thương Em", 330, nil},
	{"Straße der Lieder", 60, nil},
}

// fillers are many songs that only the word "mưa" finds: they make the
// catalog a few hundred titles long and give pagination something to page.
const fillerCount = 240

var fillerWords = []string{"Rào", "Phùn", "Ngâu", "Bay", "Giăng", "Lất Phất"}

func fillerTitle(i int) string {
	return fmt.Sprintf("Mưa %s %d", fillerWords[i%len(fillerWords)], i+1)
}

// 37 is coprime with fillerCount, so every filler has distinct views.
func fillerViews(i int) int64 { return int64((i*37)%fillerCount)*10 + 5 }

// fillersByViews lists the filler titles in the order a search for them
// returns: they tie on score, so by views, most first.
func fillersByViews() []string {
	idx := make([]int, fillerCount)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return fillerViews(idx[a]) > fillerViews(idx[b]) })
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = fillerTitle(j)
	}
	return out
}

var artists = []string{
	"Sơn Tùng M-TP", "Son Tung Cover", "Đen Vâu", "Hòa Minzy", "Mỹ Tâm", "Hồ Ngọc Hà",
	"Røyksopp", "Adele", "BTS (방탄소년단)", "Jack", "Straße Band",
}

var users = []string{"Nguyễn Văn An", "nguyen van binh", "linh.nguyen", "Trần Đức Bo"}

type collection struct {
	title, typ, visibility, owner string
}

var collections = []collection{
	{"Sky Tour", search.TypeAlbum, search.VisibilityPublic, "manager"},
	{"Sky Decade", search.TypeEP, search.VisibilityPublic, "manager"},
	{"Sky Secret", search.TypeAlbum, search.VisibilityPrivate, "manager"},
	{"Sky Single", search.TypeSingle, search.VisibilityPublic, "manager"},
	{"Sky Playlist Chill", search.TypePlaylist, search.VisibilityPublic, "u1"},
	{"Sky Private Mix", search.TypeMix, search.VisibilityPrivate, "u1"},
	{"Sky Nhạc Buồn", search.TypePlaylist, search.VisibilityPrivate, "u2"},
	{"Sky Gym", search.TypeMix, search.VisibilityPublic, "u2"},
}

// SongDoc, ArtistDoc, CollectionDoc and UserDoc build the corpus documents.
func songDoc(s song) search.SongDoc {
	d := search.SongDoc{
		ID: ID("song:" + s.title), Title: s.title, Views: s.views,
		ThumbnailURL: "https://img.example/" + ID("song:"+s.title) + ".jpg",
		Duration:     180 + int(s.views%60), ReleaseDate: "2017-01-01", Genre: "V-Pop",
	}
	for _, a := range s.artists {
		d.Artists = append(d.Artists, search.ArtistRef{ID: ID("artist:" + a), Name: a})
	}
	return d
}

func collectionDoc(c collection) search.CollectionDoc {
	return search.CollectionDoc{
		ID: ID("collection:" + c.title), Title: c.title, Description: "About " + c.title,
		ThumbnailURL: "https://img.example/c.jpg", Type: c.typ, Visibility: c.visibility,
		Owner: search.Owner{ID: ID("user:" + c.owner), Username: c.owner, AvatarURL: "https://img.example/" + c.owner + ".png"},
	}
}

// corpus returns every change that builds the fixed catalog, with
// increasing versions.
func corpus() []search.Change {
	var out []search.Change
	v := uint64(100)
	next := func() uint64 { v++; return v }
	for _, s := range songs {
		out = append(out, search.UpsertSong(songDoc(s), next()))
	}
	for i := range fillerCount {
		out = append(out, search.UpsertSong(search.SongDoc{
			ID: ID("filler:" + fillerTitle(i)), Title: fillerTitle(i), Views: fillerViews(i),
		}, next()))
	}
	for _, a := range artists {
		out = append(out, search.UpsertArtist(search.ArtistDoc{
			ID: ID("artist:" + a), Name: a, AvatarURL: "https://img.example/a.png",
		}, next()))
	}
	for _, u := range users {
		out = append(out, search.UpsertUser(search.UserDoc{ID: ID("user:" + u), Username: u}, next()))
	}
	for _, c := range collections {
		out = append(out, search.UpsertCollection(collectionDoc(c), next()))
	}
	return out
}
