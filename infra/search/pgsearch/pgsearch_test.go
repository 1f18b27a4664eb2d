package pgsearch

import (
	"slices"
	"sort"
	"testing"

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
