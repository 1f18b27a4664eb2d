-- +goose Up
-- The PostgreSQL search index (infra/search/pgsearch). Every text column
-- that is searched is written by Go from search.Normalize / search.Fold, the
-- one normalisation of the project; SQL never folds text itself.
--   raw_words  diacritics-kept words (exact-diacritics boost)
--   words      folded words (whole-word matches and one-typo matches)
--   folded     folded text, ' '-prefixed: LIKE '% word%' is a word-prefix match
--   sort_key   folded title, the last tie-break before id (compared in C order)
-- version is the global log position of the last applied change; deleted
-- rows are tombstones that keep it, so a late older upsert stays ignored.
CREATE TABLE search_songs (
    id           uuid PRIMARY KEY,
    version      bigint NOT NULL,
    deleted      boolean NOT NULL DEFAULT false,
    title        text NOT NULL DEFAULT '',
    thumbnailurl text NOT NULL DEFAULT '',
    duration     integer NOT NULL DEFAULT 0,
    views        bigint NOT NULL DEFAULT 0,
    releasedate  text NOT NULL DEFAULT '',
    genre        text NOT NULL DEFAULT '',
    artists      jsonb NOT NULL DEFAULT '[]',
    raw_words    text[] NOT NULL DEFAULT '{}',
    words        text[] NOT NULL DEFAULT '{}',
    folded       text NOT NULL DEFAULT '',
    sort_key     text NOT NULL DEFAULT ''
);

CREATE TABLE search_artists (
    id        uuid PRIMARY KEY,
    version   bigint NOT NULL,
    deleted   boolean NOT NULL DEFAULT false,
    name      text NOT NULL DEFAULT '',
    avatarurl text NOT NULL DEFAULT '',
    raw_words text[] NOT NULL DEFAULT '{}',
    words     text[] NOT NULL DEFAULT '{}',
    folded    text NOT NULL DEFAULT '',
    sort_key  text NOT NULL DEFAULT ''
);

CREATE TABLE search_collections (
    id             uuid PRIMARY KEY,
    version        bigint NOT NULL,
    deleted        boolean NOT NULL DEFAULT false,
    title          text NOT NULL DEFAULT '',
    description    text NOT NULL DEFAULT '',
    thumbnailurl   text NOT NULL DEFAULT '',
    type           text NOT NULL DEFAULT '',
    visibility     text NOT NULL DEFAULT '',
    owner_id       text NOT NULL DEFAULT '',
    owner_username text NOT NULL DEFAULT '',
    owner_avatarurl text NOT NULL DEFAULT '',
    raw_words      text[] NOT NULL DEFAULT '{}',
    words          text[] NOT NULL DEFAULT '{}',
    folded         text NOT NULL DEFAULT '',
    sort_key       text NOT NULL DEFAULT ''
);

CREATE TABLE search_users (
    id        uuid PRIMARY KEY,
    version   bigint NOT NULL,
    deleted   boolean NOT NULL DEFAULT false,
    username  text NOT NULL DEFAULT '',
    avatarurl text NOT NULL DEFAULT '',
    raw_words text[] NOT NULL DEFAULT '{}',
    words     text[] NOT NULL DEFAULT '{}',
    folded    text NOT NULL DEFAULT '',
    sort_key  text NOT NULL DEFAULT ''
);

-- Every folded word ever indexed, of any kind. A one-typo search first
-- looks its edit variants up here (a few hundred primary-key probes), so the
-- document query carries only the few variants that exist. Words of deleted
-- documents may linger: they widen that list, never the results.
CREATE TABLE search_vocabulary (
    word text COLLATE "C" PRIMARY KEY
);

-- Trigram indexes serve the word-prefix LIKEs, array indexes the whole-word
-- and one-typo lookups; tombstones are left out of both.
CREATE INDEX search_songs_folded_trgm ON search_songs USING gin (folded gin_trgm_ops) WHERE NOT deleted;
CREATE INDEX search_songs_words ON search_songs USING gin (words) WHERE NOT deleted;
CREATE INDEX search_artists_folded_trgm ON search_artists USING gin (folded gin_trgm_ops) WHERE NOT deleted;
CREATE INDEX search_artists_words ON search_artists USING gin (words) WHERE NOT deleted;
CREATE INDEX search_collections_folded_trgm ON search_collections USING gin (folded gin_trgm_ops) WHERE NOT deleted;
CREATE INDEX search_collections_words ON search_collections USING gin (words) WHERE NOT deleted;
CREATE INDEX search_users_folded_trgm ON search_users USING gin (folded gin_trgm_ops) WHERE NOT deleted;
CREATE INDEX search_users_words ON search_users USING gin (words) WHERE NOT deleted;

-- +goose Down
DROP TABLE search_vocabulary;
DROP TABLE search_users;
DROP TABLE search_collections;
DROP TABLE search_artists;
DROP TABLE search_songs;
