// Package pgsearch is the PostgreSQL search index, the default: folded text
// columns written from search.Fold, word-prefix LIKEs served by pg_trgm GIN
// indexes, whole-word and one-typo matches served by GIN indexes over word
// arrays, and one ranking expression that mirrors the Elasticsearch one.
package pgsearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hustmusik/backend/infra/postgres"
	"github.com/hustmusik/backend/infra/search"
)

// Config configures the index.
type Config struct {
	// Pool is the read-model database, migrated (migration 00009 holds the tables).
	Pool *pgxpool.Pool
}

func (c *Config) setDefaults() {}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("pgsearch: Pool is required"))
	}
	return errors.Join(errs...)
}

// Index is a search.Index over PostgreSQL.
type Index struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
}

var _ search.Index = (*Index)(nil)

// New returns an index over the migrated database of cfg.Pool.
func New(cfg Config, logger *slog.Logger) (*Index, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Index{pool: cfg.Pool, logger: logger}, nil
}

// Apply writes the changes in one transaction.
func (x *Index) Apply(ctx context.Context, changes []search.Change) error {
	if len(changes) == 0 {
		return nil
	}
	return postgres.InTx(ctx, x.pool, func(tx pgx.Tx) error { return x.ApplyTx(ctx, tx, changes) })
}

// ApplyTx writes the changes in the caller's transaction, so that a
// projector can commit them together with its checkpoint. Nothing is sent
// unless every change is valid.
func (x *Index) ApplyTx(ctx context.Context, tx pgx.Tx, changes []search.Change) error {
	batch := &pgx.Batch{}
	vocabulary := map[string]bool{}
	for _, c := range changes {
		c, err := c.Canonical()
		if err != nil {
			return err
		}
		t := tableOf(c.Kind)
		if c.Delete {
			batch.Queue(t.deleteSQL, c.ID, int64(c.Version))
			continue
		}
		row, err := t.row(c)
		if err != nil {
			return err
		}
		batch.Queue(t.upsertSQL, append([]any{c.ID, int64(c.Version)}, row...)...)
		for _, w := range row[len(row)-len(textColumns)+1].([]string) { // the folded words
			vocabulary[w] = true
		}
	}
	if len(vocabulary) > 0 {
		words := slices.Sorted(maps.Keys(vocabulary)) // sorted: concurrent writers lock in one order
		batch.Queue(`INSERT INTO search_vocabulary (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, words)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("pgsearch: apply %d changes: %w", len(changes), err)
	}
	return nil
}

// Reset empties every search table, tombstones included.
func (x *Index) Reset(ctx context.Context) error {
	return x.ResetTx(ctx, nil)
}

// ResetTx is Reset in the caller's transaction (nil: its own).
func (x *Index) ResetTx(ctx context.Context, tx pgx.Tx) error {
	const q = `TRUNCATE search_songs, search_artists, search_collections, search_users, search_vocabulary`
	var err error
	if tx != nil {
		_, err = tx.Exec(ctx, q)
	} else {
		_, err = x.pool.Exec(ctx, q)
	}
	if err != nil {
		return fmt.Errorf("pgsearch: reset: %w", err)
	}
	return nil
}

// Songs finds songs by title.
func (x *Index) Songs(ctx context.Context, q search.Query, page, limit int) ([]search.SongDoc, error) {
	out := []search.SongDoc{}
	err := x.find(ctx, songs, q, "", nil, page, limit, func(rows pgx.Rows) error {
		var d search.SongDoc
		var artists []byte
		if err := rows.Scan(&d.ID, &d.Title, &d.ThumbnailURL, &d.Duration, &d.Views, &d.ReleaseDate, &d.Genre, &artists); err != nil {
			return err
		}
		if err := json.Unmarshal(artists, &d.Artists); err != nil {
			return fmt.Errorf("artists of song %s: %w", d.ID, err)
		}
		if d.Artists == nil {
			d.Artists = []search.ArtistRef{}
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// Artists finds artists by name.
func (x *Index) Artists(ctx context.Context, q search.Query, page, limit int) ([]search.ArtistDoc, error) {
	out := []search.ArtistDoc{}
	err := x.find(ctx, artists, q, "", nil, page, limit, func(rows pgx.Rows) error {
		var d search.ArtistDoc
		if err := rows.Scan(&d.ID, &d.Name, &d.AvatarURL); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// Albums finds public albums, EPs and singles by title.
func (x *Index) Albums(ctx context.Context, q search.Query, page, limit int) ([]search.CollectionDoc, error) {
	return x.collections(ctx, q, "type = ANY(@types) AND visibility = @public",
		pgx.NamedArgs{"types": search.AlbumTypes, "public": search.VisibilityPublic}, page, limit)
}

// Playlists finds public playlists and mixes, and the viewer's private ones.
func (x *Index) Playlists(ctx context.Context, q search.Query, viewerID string, page, limit int) ([]search.CollectionDoc, error) {
	args := pgx.NamedArgs{"types": search.PlaylistTypes, "public": search.VisibilityPublic}
	if viewerID == "" { // anonymous: an empty owner id must not count as theirs
		return x.collections(ctx, q, "type = ANY(@types) AND visibility = @public", args, page, limit)
	}
	args["viewer"] = strings.ToLower(viewerID)
	return x.collections(ctx, q, "type = ANY(@types) AND (visibility = @public OR owner_id = @viewer)", args, page, limit)
}

func (x *Index) collections(ctx context.Context, q search.Query, filter string, args pgx.NamedArgs, page, limit int) ([]search.CollectionDoc, error) {
	out := []search.CollectionDoc{}
	err := x.find(ctx, collections, q, filter, args, page, limit, func(rows pgx.Rows) error {
		var d search.CollectionDoc
		if err := rows.Scan(&d.ID, &d.Title, &d.Description, &d.ThumbnailURL, &d.Type, &d.Visibility,
			&d.Owner.ID, &d.Owner.Username, &d.Owner.AvatarURL); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// Users finds users by username.
func (x *Index) Users(ctx context.Context, q search.Query, page, limit int) ([]search.UserDoc, error) {
	out := []search.UserDoc{}
	err := x.find(ctx, users, q, "", nil, page, limit, func(rows pgx.Rows) error {
		var d search.UserDoc
		if err := rows.Scan(&d.ID, &d.Username, &d.AvatarURL); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

func (x *Index) find(ctx context.Context, t *table, q search.Query, filter string, args pgx.NamedArgs,
	page, limit int, scan func(pgx.Rows) error) error {
	offset, size := search.Window(page, limit)
	if size == 0 || len(q.Words) == 0 {
		return nil
	}
	typos, err := x.typos(ctx, q)
	if err != nil {
		return fmt.Errorf("pgsearch: search %s: %w", t.name, err)
	}
	sql, named := buildQuery(t, q, typos, filter, args, offset, size)
	rows, err := x.pool.Query(ctx, sql, named)
	if err != nil {
		return fmt.Errorf("pgsearch: search %s: %w", t.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("pgsearch: search %s: %w", t.name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgsearch: search %s: %w", t.name, err)
	}
	return nil
}

// typos returns, for each word of q long enough to forgive a typo, the
// indexed words within one edit of it (nil for the others).
func (x *Index) typos(ctx context.Context, q search.Query) ([][]string, error) {
	out := make([][]string, len(q.Words))
	var all []string
	owners := map[string][]int{}
	for i, w := range q.Words {
		if !q.Fuzzy(i) {
			continue
		}
		for _, v := range OneEdit(w) {
			if owners[v] == nil {
				all = append(all, v)
			}
			owners[v] = append(owners[v], i)
		}
	}
	if len(all) == 0 {
		return out, nil
	}
	rows, err := x.pool.Query(ctx, `SELECT word FROM search_vocabulary WHERE word = ANY($1::text[])`, all)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, w := range found {
		for _, i := range owners[w] {
			out[i] = append(out[i], w)
		}
	}
	return out, nil
}

// buildQuery writes the search SQL: every query word must match a document
// word by prefix (or, for long words, within one edit); the score adds the
// search package's points per word, and ties go to popularity, sort key, id.
func buildQuery(t *table, q search.Query, typos [][]string, filter string, args pgx.NamedArgs, offset, size int) (string, pgx.NamedArgs) {
	named := pgx.NamedArgs{"offset": offset, "size": size}
	for k, v := range args {
		named[k] = v
	}
	if len(q.Words) == 1 && utf8.RuneCountInString(q.Words[0]) <= shortWord && len(typos[0]) == 0 {
		return buildShortQuery(t, q, filter, named, offset, size)
	}
	return buildScoredQuery(t, q, typos, filter, named)
}

// buildScoredQuery scores every matching document and sorts them all.
func buildScoredQuery(t *table, q search.Query, typos [][]string, filter string, named pgx.NamedArgs) (string, pgx.NamedArgs) {
	var score, where []string
	for i, w := range q.Words {
		raw, word, like, variants := fmt.Sprintf("r%d", i), fmt.Sprintf("w%d", i), fmt.Sprintf("l%d", i), fmt.Sprintf("v%d", i)
		named[raw] = q.RawWords[i]
		named[word] = w
		named[like] = "% " + escapeLike(w) + "%"
		s := fmt.Sprintf("CASE WHEN raw_words @> ARRAY[@%s]::text[] THEN %d ELSE 0 END + CASE WHEN words @> ARRAY[@%s]::text[] THEN %d ELSE 0 END + CASE WHEN folded LIKE @%s THEN %d ELSE 0 END",
			raw, search.ScoreExact, word, search.ScoreWord, like, search.ScorePrefix)
		cond := fmt.Sprintf("folded LIKE @%s", like)
		if len(typos[i]) > 0 {
			named[variants] = typos[i]
			s += fmt.Sprintf(" + CASE WHEN words && @%s::text[] THEN %d ELSE 0 END", variants, search.ScoreFuzzy)
			cond = fmt.Sprintf("(%s OR words && @%s::text[])", cond, variants)
		}
		score = append(score, "("+s+")")
		where = append(where, cond)
	}
	if filter != "" {
		where = append(where, "("+filter+")")
	}
	sql := fmt.Sprintf(`SELECT %s FROM (
  SELECT *, %s AS score FROM %s WHERE NOT deleted AND %s
) hit ORDER BY score DESC, %s sort_key COLLATE "C", id LIMIT @size OFFSET @offset`,
		t.columns, strings.Join(score, " + "), t.name, strings.Join(where, " AND "), t.popularity)
	return sql, named
}

// shortWord is the longest lone query word searched by buildShortQuery.
const shortWord = 2

// buildShortQuery writes the search SQL of a query of one short word ("d",
// "em"). Such a word starts a word of a large share of all titles, and
// scoring and sorting every one of them made these the slowest searches.
// Its hits fall into two groups whose scores never interleave:
//   - whole-word matches (ScoreWord + ScorePrefix, plus ScoreExact with the
//     right diacritics): few, found through the words index, sorted;
//   - prefix-only matches (ScorePrefix alone), which rank by popularity,
//     sort key and id only: the (popularity, sort key, id) index is walked in
//     that order until the page is full.
//
// The order is the one buildQuery gives; only the work differs.
func buildShortQuery(t *table, q search.Query, filter string, named pgx.NamedArgs, offset, size int) (string, pgx.NamedArgs) {
	named["r0"] = q.RawWords[0]
	named["w0"] = q.Words[0]
	named["l0"] = "% " + escapeLike(q.Words[0]) + "%"
	named["end"] = offset + size // each group may fill the page alone
	if filter != "" {
		filter = " AND (" + filter + ")"
	}
	order := t.popularity + ` sort_key COLLATE "C", id`
	sql := fmt.Sprintf(`SELECT %[1]s FROM (
  (SELECT *, CASE WHEN raw_words @> ARRAY[@r0]::text[] THEN %[2]d ELSE %[3]d END AS score FROM %[4]s
   WHERE NOT deleted AND words @> ARRAY[@w0]::text[]%[5]s ORDER BY score DESC, %[6]s LIMIT @end)
  UNION ALL
  (SELECT *, %[7]d AS score FROM %[4]s
   WHERE NOT deleted AND folded LIKE @l0 AND NOT words @> ARRAY[@w0]::text[]%[5]s ORDER BY %[6]s LIMIT @end)
) hit ORDER BY score DESC, %[6]s LIMIT @size OFFSET @offset`,
		t.columns, search.ScoreExact+search.ScoreWord+search.ScorePrefix, search.ScoreWord+search.ScorePrefix,
		t.name, filter, order, search.ScorePrefix)
	return sql, named
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// OneEdit lists every string within one edit of w (optimal string
// alignment: insert, delete or replace one letter, or swap two adjacent
// ones), w itself included. Inserted and replacing letters come from a-z,
// 0-9 and w's own letters: folded Vietnamese and Western text uses no
// others; a typo into another script is not forgiven here (Elasticsearch's
// fuzzy query would forgive it).
func OneEdit(w string) []string {
	r := []rune(w)
	alphabet := []rune("abcdefghijklmnopqrstuvwxyz0123456789")
	for _, c := range r {
		if !strings.ContainsRune(string(alphabet), c) {
			alphabet = append(alphabet, c)
		}
	}
	seen := map[string]bool{w: true}
	out := []string{w}
	add := func(rs []rune) {
		s := string(rs)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	buf := make([]rune, 0, len(r)+1)
	for i := 0; i <= len(r); i++ {
		for _, c := range alphabet {
			buf = append(append(append(buf[:0], r[:i]...), c), r[i:]...) // insertion
			add(buf)
			if i < len(r) {
				buf = append(append(append(buf[:0], r[:i]...), c), r[i+1:]...) // substitution
				add(buf)
			}
		}
		if i < len(r) {
			add(append(append(buf[:0], r[:i]...), r[i+1:]...)) // deletion
		}
		if i+1 < len(r) {
			buf = append(append(buf[:0], r[:i]...), r[i+1], r[i])
			add(append(buf, r[i+2:]...)) // transposition
		}
	}
	return out
}
