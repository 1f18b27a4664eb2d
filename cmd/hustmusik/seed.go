package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/hustmusik/backend/commands"
	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/config"
	"github.com/hustmusik/backend/infra/eventstore"
	"github.com/hustmusik/backend/infra/password"
)

// seedCmd: hustmusik seed. It writes events like any command, so a running
// serve picks the catalog up from the log; without one, the next serve does.
func seedCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout, stderr io.Writer) error {
	e, err := openEnv(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer e.Close()
	a, err := newApp(cfg, e, logger, password.Config{})
	if err != nil {
		return err
	}
	sum, err := seedDemo(ctx, a, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sum)
	return nil
}

// seedSummary counts what a seed run created and what it found already there.
type seedSummary struct {
	created, existing int
	position          uint64
}

func (s seedSummary) String() string {
	if s.created == 0 {
		return fmt.Sprintf("demo catalog already seeded: %d items, nothing added", s.existing)
	}
	return fmt.Sprintf("demo catalog seeded: %d items added, %d already there (log position %d)", s.created, s.existing, s.position)
}

func (s *seedSummary) add(created bool, w commands.Written) {
	if created {
		s.created++
	} else {
		s.existing++
	}
	s.position = max(s.position, w.Position)
}

// seedID derives a seed aggregate's id from a stable name (UUID v5), so
// that every run addresses the same aggregates and a second run adds
// nothing. Renaming an item in the data below makes a new one.
func seedID(kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://hustmusik.vn/seed/"+kind+"/"+name)).String()
}

type seedSong struct {
	title    string
	duration int
	genre    string
	released string
	featured []string // artist names
}

type seedArtist struct {
	name, country, description, album string
	songs                             []seedSong
}

// seedDemo writes the demo catalog through the catalog and collection
// commands, as the seed account (an Admin without credentials), printing
// progress to progress.
func seedDemo(ctx context.Context, a *app, progress io.Writer) (seedSummary, error) {
	var sum seedSummary
	seeder, err := commands.NewSeeder(a.env.store, a.catalog, a.collections)
	if err != nil {
		return sum, err
	}
	seedUser := seedID("user", "hustmusik")
	by := domain.Principal{UserID: seedUser, Role: domain.RoleAdmin}
	ctx = eventstore.WithMetadata(ctx, eventstore.Metadata{ActorID: seedUser, Source: "seed"})

	created, w, err := seeder.EnsureUser(ctx, seedUser, "Hust Musik", "Việt Nam", domain.RoleAdmin)
	if err != nil {
		return sum, fmt.Errorf("seed user: %w", err)
	}
	sum.add(created, w)

	artists := demoArtists()
	for i, ar := range artists {
		f := domain.ArtistFields{Name: &ar.name, Country: &ar.country, Description: &ar.description}
		created, w, err := seeder.EnsureArtist(ctx, by, seedID("artist", ar.name), f)
		if err != nil {
			return sum, fmt.Errorf("seed artist %s: %w", ar.name, err)
		}
		sum.add(created, w)
		fmt.Fprintf(progress, "artists %d/%d\n", i+1, len(artists))
	}

	total := 0
	for _, ar := range artists {
		total += len(ar.songs)
	}
	n := 0
	songIDs := map[string][]string{} // artist name -> ids of the songs it leads
	for _, ar := range artists {
		for _, s := range ar.songs {
			ids := []string{seedID("artist", ar.name)}
			for _, feat := range s.featured {
				ids = append(ids, seedID("artist", feat))
			}
			id := seedID("song", ar.name+"/"+s.title)
			duration := strconv.Itoa(s.duration)
			f := domain.SongFields{Title: &s.title, Duration: &duration, Genre: &s.genre, ReleaseDate: &s.released}
			created, w, err := seeder.EnsureSong(ctx, by, id, f, strings.Join(ids, ","))
			if err != nil {
				return sum, fmt.Errorf("seed song %s by %s: %w", s.title, ar.name, err)
			}
			sum.add(created, w)
			songIDs[ar.name] = append(songIDs[ar.name], id)
			n++
			fmt.Fprintf(progress, "songs %d/%d\n", n, total)
		}
	}

	album, public := string(domain.CollectionAlbum), string(domain.Public)
	for i, ar := range artists {
		desc := "Album của " + ar.name
		id := seedID("album", ar.name+"/"+ar.album)
		if err := seedCollection(ctx, a, seeder, by, id, domain.CollectionFields{Title: &ar.album,
			Description: &desc, Type: &album, Visibility: &public}, songIDs[ar.name], &sum); err != nil {
			return sum, err
		}
		fmt.Fprintf(progress, "albums %d/%d\n", i+1, len(artists))
	}

	playlist := string(domain.CollectionPlaylist)
	lists := demoPlaylists(artists)
	for i, pl := range lists {
		id := seedID("playlist", pl.title)
		var ids []string
		for _, ref := range pl.songs {
			ids = append(ids, seedID("song", ref))
		}
		if err := seedCollection(ctx, a, seeder, by, id, domain.CollectionFields{Title: &pl.title,
			Description: &pl.description, Type: &playlist, Visibility: &public}, ids, &sum); err != nil {
			return sum, err
		}
		fmt.Fprintf(progress, "playlists %d/%d\n", i+1, len(lists))
	}
	return sum, nil
}

// seedCollection makes a collection and puts its songs in, in order, with
// the Add Song To Collection command (which appends nothing for a song
// already there).
func seedCollection(ctx context.Context, a *app, seeder *commands.Seeder, by domain.Principal, id string,
	f domain.CollectionFields, songs []string, sum *seedSummary) error {
	created, w, err := seeder.EnsureCollection(ctx, by, id, f)
	if err != nil {
		return fmt.Errorf("seed collection %s: %w", *f.Title, err)
	}
	sum.add(created, w)
	for _, sid := range songs {
		w, err := a.collections.AddSong(ctx, by, id, sid)
		if err != nil {
			return fmt.Errorf("seed collection %s: add song %s: %w", *f.Title, sid, err)
		}
		sum.position = max(sum.position, w.Position)
		if w.Position > 0 {
			sum.created++
		}
	}
	return nil
}

type seedPlaylist struct {
	title, description string
	songs              []string // "artist/title"
}

func demoPlaylists(artists []seedArtist) []seedPlaylist {
	var vn, chill []string
	for _, ar := range artists {
		for i, s := range ar.songs {
			ref := ar.name + "/" + s.title
			if ar.country == "Việt Nam" && i < 2 {
				vn = append(vn, ref)
			}
			if s.genre == "Indie" || s.genre == "Ballad" || s.genre == "Electronic" || s.genre == "Post-rock" {
				chill = append(chill, ref)
			}
		}
	}
	return []seedPlaylist{
		{"Nhạc Việt Hot Nhất", "Những bản hit V-Pop được nghe nhiều nhất.", vn},
		{"Chill Cuối Tuần", "Nhẹ nhàng cho những ngày nghỉ.", chill},
	}
}

// demoArtists is the demo catalog: real artists, real song titles (with
// their diacritics), approximate durations and release dates.
func demoArtists() []seedArtist {
	vn := "Việt Nam"
	return []seedArtist{
		{"Sơn Tùng M-TP", vn, "Ca sĩ, nhạc sĩ V-Pop.", "m-tp M-TP", []seedSong{
			{"Nơi Này Có Anh", 260, "V-Pop", "2017-02-14", nil},
			{"Lạc Trôi", 233, "V-Pop", "2017-01-01", nil},
			{"Chạy Ngay Đi", 248, "V-Pop", "2018-05-12", nil},
			{"Hãy Trao Cho Anh", 245, "V-Pop", "2019-07-01", nil},
			{"Chúng Ta Của Hiện Tại", 301, "V-Pop", "2020-12-20", nil},
			{"Muộn Rồi Mà Sao Còn", 275, "V-Pop", "2021-04-29", nil},
		}},
		{"MIN", vn, "Ca sĩ V-Pop.", "Mười Một", []seedSong{
			{"Có Em Chờ", 245, "V-Pop", "2017-03-02", nil},
			{"Trên Tình Bạn Dưới Tình Yêu", 215, "V-Pop", "2020-06-03", nil},
			{"Ghen", 232, "V-Pop", "2017-07-14", nil},
		}},
		{"Đen Vâu", vn, "Rapper.", "Show của Đen", []seedSong{
			{"Bài Này Chill Phết", 276, "Rap", "2019-05-18", []string{"MIN"}},
			{"Đi Theo Bóng Mặt Trời", 260, "Rap", "2019-08-14", nil},
			{"Lối Nhỏ", 284, "Rap", "2019-10-04", nil},
			{"Trốn Tìm", 240, "Rap", "2020-04-27", nil},
			{"Mang Tiền Về Cho Mẹ", 405, "Rap", "2021-12-31", nil},
		}},
		{"Hòa Minzy", vn, "Ca sĩ V-Pop.", "Hòa Minzy Hits", []seedSong{
			{"Rời Bỏ", 268, "Ballad", "2018-01-12", nil},
			{"Không Thể Cùng Nhau Suốt Kiếp", 301, "Ballad", "2020-01-15", nil},
			{"Thị Mầu", 230, "V-Pop", "2023-02-17", nil},
			{"Bắc Bling", 240, "V-Pop", "2025-02-24", nil},
		}},
		{"Mỹ Tâm", vn, "Họa mi tóc nâu.", "Tâm 9", []seedSong{
			{"Ước Gì", 272, "Ballad", "2003-06-01", nil},
			{"Hẹn Ước Từ Hư Vô", 270, "Ballad", "2008-09-01", nil},
			{"Đâu Chỉ Riêng Em", 300, "Ballad", "2016-11-24", nil},
			{"Người Hãy Quên Em Đi", 285, "Ballad", "2018-08-15", nil},
		}},
		{"Hồ Ngọc Hà", vn, "Ca sĩ, người mẫu.", "Love Songs", []seedSong{
			{"Gửi Người Yêu Cũ", 280, "Ballad", "2016-04-10", nil},
			{"Em Muốn Anh Đưa Em Về Không", 250, "V-Pop", "2017-06-20", nil},
			{"Cả Một Trời Thương Nhớ", 275, "Ballad", "2018-10-01", nil},
		}},
		{"Hà Anh Tuấn", vn, "Ca sĩ nhạc nhẹ.", "Cô Đơn Trên Sofa", []seedSong{
			{"Người Tình Mùa Đông", 300, "Ballad", "2015-12-01", nil},
			{"Tháng Tư Là Lời Nói Dối Của Em", 310, "Ballad", "2016-04-01", nil},
			{"Xuân Thì", 295, "Ballad", "2017-03-08", nil},
		}},
		{"Vũ.", vn, "Nghệ sĩ indie.", "Một Vạn Năm", []seedSong{
			{"Đông Kiếm Em", 240, "Indie", "2015-12-10", nil},
			{"Lạ Lùng", 262, "Indie", "2016-09-22", nil},
			{"Bước Qua Nhau", 255, "Indie", "2021-12-05", nil},
			{"Những Lời Hứa Bỏ Quên", 280, "Indie", "2023-04-12", nil},
		}},
		{"Chi Pu", vn, "Ca sĩ, diễn viên.", "Chi Pu Collection", []seedSong{
			{"Từ Hôm Nay (Feel Like Ooh)", 230, "V-Pop", "2017-05-08", nil},
			{"Cung Đàn Vỡ Đôi", 240, "V-Pop", "2017-11-15", nil},
			{"Anh Ơi Ở Lại", 265, "V-Pop", "2018-11-29", nil},
		}},
		{"Noo Phước Thịnh", vn, "Ca sĩ V-Pop.", "Noo's Best", []seedSong{
			{"Chạm Khẽ Tim Anh Một Chút Thôi", 250, "V-Pop", "2017-02-10", nil},
			{"Em Đã Thương Người Ta Hơn Anh", 280, "Ballad", "2017-09-19", nil},
			{"Thương Em Là Điều Anh Không Thể Ngờ", 290, "Ballad", "2018-05-08", nil},
		}},
		{"Bích Phương", vn, "Ca sĩ V-Pop.", "Dramatic", []seedSong{
			{"Mình Yêu Nhau Đi", 245, "V-Pop", "2017-04-02", nil},
			{"Bùa Yêu", 215, "V-Pop", "2018-04-06", nil},
			{"Đi Đu Đưa Đi", 210, "V-Pop", "2019-04-11", nil},
			{"Từ Chối Nhẹ Nhàng Thôi", 225, "V-Pop", "2020-09-02", nil},
		}},
		{"Hoàng Thùy Linh", vn, "Ca sĩ V-Pop.", "Hoàng", []seedSong{
			{"Để Mị Nói Cho Mà Nghe", 240, "V-Pop", "2019-04-21", nil},
			{"Bo Xì Bo", 220, "V-Pop", "2021-01-01", nil},
			{"See Tình", 185, "V-Pop", "2022-02-22", nil},
			{"Gieo Quẻ", 240, "V-Pop", "2022-01-22", []string{"Đen Vâu"}},
		}},
		{"Đức Phúc", vn, "Ca sĩ V-Pop.", "Ánh Nắng Của Anh", []seedSong{
			{"Ánh Nắng Của Anh", 270, "Ballad", "2016-08-12", nil},
			{"Hơn Cả Yêu", 280, "Ballad", "2020-03-16", nil},
			{"Ngày Đầu Tiên", 235, "V-Pop", "2022-02-14", nil},
		}},
		{"AMEE", vn, "Ca sĩ V-Pop.", "dreAMEE", []seedSong{
			{"Anh Nhà Ở Đâu Thế", 205, "V-Pop", "2019-06-05", nil},
			{"Đen Đá Không Đường", 220, "V-Pop", "2019-11-21", nil},
			{"Sao Anh Chưa Về Nhà", 230, "V-Pop", "2021-03-09", nil},
		}},
		{"Trúc Nhân", vn, "Ca sĩ V-Pop.", "Trúc Nhân Hits", []seedSong{
			{"Bốn Chữ Lắm", 250, "V-Pop", "2015-04-10", nil},
			{"Thật Bất Ngờ", 250, "V-Pop", "2016-01-05", nil},
			{"Sáng Mắt Chưa", 245, "V-Pop", "2019-10-15", nil},
		}},
		{"Phan Mạnh Quỳnh", vn, "Ca sĩ, nhạc sĩ.", "Nhạt", []seedSong{
			{"Vợ Người Ta", 285, "Ballad", "2015-05-15", nil},
			{"Nhạt", 300, "Ballad", "2018-01-10", nil},
			{"Có Chàng Trai Viết Lên Cây", 310, "Ballad", "2018-03-15", nil},
		}},
		{"Thùy Chi", vn, "Ca sĩ nhạc nhẹ.", "Giấc Mơ Trưa", []seedSong{
			{"Giấc Mơ Trưa", 280, "Ballad", "2010-08-01", nil},
			{"Xe Đạp", 290, "Ballad", "2012-06-01", nil},
			{"Mưa Thủy Tinh", 270, "Ballad", "2011-04-01", nil},
		}},
		{"Taylor Swift", "United States", "Singer-songwriter.", "1989", []seedSong{
			{"Love Story", 235, "Country", "2008-09-12", nil},
			{"Shake It Off", 219, "Pop", "2014-08-18", nil},
			{"Blank Space", 231, "Pop", "2014-11-10", nil},
			{"Cruel Summer", 178, "Pop", "2019-08-23", nil},
			{"Anti-Hero", 201, "Pop", "2022-10-21", nil},
		}},
		{"Ed Sheeran", "United Kingdom", "Singer-songwriter.", "÷ (Divide)", []seedSong{
			{"Thinking Out Loud", 281, "Pop", "2014-09-24", nil},
			{"Shape of You", 233, "Pop", "2017-01-06", nil},
			{"Perfect", 263, "Pop", "2017-03-03", nil},
			{"Bad Habits", 231, "Pop", "2021-06-25", nil},
			{"The Joker and the Queen", 185, "Pop", "2022-02-11", []string{"Taylor Swift"}},
		}},
		{"Røyksopp", "Norway", "Electronic duo from Tromsø.", "Melody A.M.", []seedSong{
			{"Eple", 221, "Electronic", "2001-09-03", nil},
			{"Remind Me", 220, "Electronic", "2002-09-23", nil},
			{"What Else Is There?", 317, "Electronic", "2005-04-18", nil},
		}},
		{"BTS", "South Korea", "방탄소년단.", "BE", []seedSong{
			{"Spring Day", 274, "K-Pop", "2017-02-13", nil},
			{"Boy With Luv", 229, "K-Pop", "2019-04-12", nil},
			{"Dynamite", 199, "K-Pop", "2020-08-21", nil},
			{"Butter", 164, "K-Pop", "2021-05-21", nil},
		}},
		{"Coldplay", "United Kingdom", "Rock band.", "Parachutes", []seedSong{
			{"Yellow", 266, "Rock", "2000-06-26", nil},
			{"Viva la Vida", 242, "Rock", "2008-05-25", nil},
			{"My Universe", 228, "Pop", "2021-09-24", []string{"BTS"}},
		}},
		{"Adele", "United Kingdom", "Singer-songwriter.", "25", []seedSong{
			{"Rolling in the Deep", 228, "Soul", "2010-11-29", nil},
			{"Someone Like You", 285, "Ballad", "2011-01-24", nil},
			{"Hello", 295, "Ballad", "2015-10-23", nil},
			{"Easy on Me", 224, "Ballad", "2021-10-15", nil},
		}},
		{"Beyoncé", "United States", "Singer.", "I Am... Sasha Fierce", []seedSong{
			{"Crazy in Love", 236, "R&B", "2003-05-18", nil},
			{"Halo", 261, "R&B", "2009-01-20", nil},
			{"Cuff It", 225, "R&B", "2022-07-29", nil},
		}},
		{"Billie Eilish", "United States", "Singer-songwriter.", "Happier Than Ever", []seedSong{
			{"bad guy", 194, "Pop", "2019-03-29", nil},
			{"Happier Than Ever", 298, "Pop", "2021-07-30", nil},
			{"Birds of a Feather", 210, "Pop", "2024-05-17", nil},
		}},
		{"Stromae", "Belgique", "Auteur-compositeur-interprète.", "Racine carrée", []seedSong{
			{"Alors on danse", 206, "Electronic", "2009-09-21", nil},
			{"Papaoutai", 232, "Electronic", "2013-05-13", nil},
			{"Santé", 187, "Electronic", "2021-10-15", nil},
		}},
		{"Sigur Rós", "Ísland", "Post-rock frá Reykjavík.", "Takk...", []seedSong{
			{"Svefn-g-englar", 604, "Post-rock", "1999-06-12", nil},
			{"Hoppípolla", 268, "Post-rock", "2005-11-28", nil},
			{"Glósóli", 375, "Post-rock", "2005-10-17", nil},
		}},
	}
}
