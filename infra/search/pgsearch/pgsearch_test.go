package pgsearch

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hustmusik/backend/infra/pgtest"
	"github.com/hustmusik/backend/infra/search"
	"github.com/hustmusik/backend/infra/search/searchtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newIndex(t *testing.T) search.Index {
	x, err := New(Config{Pool: pgtest.New(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestSuite(t *testing.T) { searchtest.Run(t, newIndex) }

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Fatal("New without a pool succeeded")
	}
}

func TestOneEdit(t *testing.T) {
	got := OneEdit("abc")
	for _, want := range []string{"abc", "bc", "ac", "ab", "bac", "acb", "xabc", "abcx", "abxc", "xbc", "axc", "abx", "abcc"} {
		if !slices.Contains(got, want) {
			t.Errorf("OneEdit(abc) lacks %q", want)
		}
	}
	for _, not := range []string{"cba", "a", "abcde", "bca", "xyc"} {
		if slices.Contains(got, not) {
			t.Errorf("OneEdit(abc) holds %q, two edits away", not)
		}
	}
	sorted := slices.Clone(got)
	sort.Strings(sorted)
	if len(slices.Compact(sorted)) != len(got) {
		t.Error("OneEdit returns duplicates")
	}
	if h := OneEdit("봄날"); !slices.Contains(h, "날봄") || !slices.Contains(h, "봄") || !slices.Contains(h, "봄날날") {
		t.Errorf("OneEdit on Hangul misses edits made of its own letters: %d variants", len(h))
	}
}

// TestShortQueryOrdersLikeTheScoredOne checks the fast plan of one-word
// queries of one or two letters against the plan that scores and sorts every
// hit: the same documents, in the same order, on every page, for every kind
// and filter, with many ties of popularity and title.
func TestShortQueryOrdersLikeTheScoredOne(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	x, err := New(Config{Pool: pool}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	owners := []string{searchtest.ID("owner:0"), searchtest.ID("owner:1")}
	var changes []search.Change
	for i := range 1500 {
		title := searchtest.GeneratedTitle(r)
		if i%10 == 0 {
			title = "Đ " + title // one-letter words, with and without diacritics
		}
		if i%13 == 0 {
			title += " d"
		}
		v := uint64(i + 1)
		changes = append(changes,
			search.UpsertSong(search.SongDoc{ID: searchtest.ID(fmt.Sprint("song:", i)), Title: title, Views: r.Int64N(5)}, v),
			search.UpsertArtist(search.ArtistDoc{ID: searchtest.ID(fmt.Sprint("artist:", i)), Name: title}, v),
			search.UpsertUser(search.UserDoc{ID: searchtest.ID(fmt.Sprint("user:", i)), Username: title}, v),
			search.UpsertCollection(search.CollectionDoc{ID: searchtest.ID(fmt.Sprint("collection:", i)), Title: title,
				Type:       []string{search.TypeAlbum, search.TypePlaylist, search.TypeMix, search.TypeEP}[i%4],
				Visibility: []string{search.VisibilityPublic, search.VisibilityPrivate}[i%3%2],
				Owner:      search.Owner{ID: owners[i%2]}}, v))
	}
	if err := x.Apply(ctx, changes); err != nil {
		t.Fatal(err)
	}
	filters := []struct {
		t      *table
		filter string
		args   pgx.NamedArgs
	}{
		{songs, "", nil}, {artists, "", nil}, {users, "", nil},
		{collections, "type = ANY(@types) AND visibility = @public", pgx.NamedArgs{"types": search.AlbumTypes, "public": search.VisibilityPublic}},
		{collections, "type = ANY(@types) AND (visibility = @public OR owner_id = @viewer)",
			pgx.NamedArgs{"types": search.PlaylistTypes, "public": search.VisibilityPublic, "viewer": owners[1]}},
	}
	ids := func(sql string, named pgx.NamedArgs) []string {
		t.Helper()
		rows, err := pool.Query(ctx, "SELECT id FROM ("+sql+") page", named)
		if err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	compared := 0
	for _, term := range []string{"d", "Đ", "đ", "em", "ẹm", "a", "xa", "ch", "tr", "zz", "9"} {
		q, err := search.ParseQuery(term)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range filters {
			for _, w := range []struct{ offset, size int }{{0, 20}, {20, 20}, {0, 50}, {95, 7}, {400, 50}} {
				short, named := buildQuery(f.t, q, [][]string{nil}, f.filter, f.args, w.offset, w.size)
				if !strings.Contains(short, "UNION ALL") {
					t.Fatalf("%q did not take the short-word plan", term)
				}
				fullArgs := pgx.NamedArgs{"offset": w.offset, "size": w.size}
				maps.Copy(fullArgs, f.args)
				full, fullNamed := buildScoredQuery(f.t, q, [][]string{nil}, f.filter, fullArgs)
				got, want := ids(short, named), ids(full, fullNamed)
				if !slices.Equal(got, want) {
					t.Errorf("%s %q offset %d size %d: short plan %v, scored plan %v", f.t.name, term, w.offset, w.size, got, want)
				}
				compared += len(want)
			}
		}
	}
	if compared < 1000 {
		t.Fatalf("only %d results compared: the corpus does not exercise the plans", compared)
	}
}
