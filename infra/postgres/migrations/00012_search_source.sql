-- +goose Up
-- The "search" projector's own source tables: what it needs to build a
-- search document that mixes aggregates (a song with its artists' names, a
-- collection with its owner's username). It never reads another projector's
-- tables, whose progress is not ordered with its own; these are written in
-- the same transaction as its checkpoint. Nothing here is searched: the
-- documents built from them go to the index (00009 or Elasticsearch).
CREATE TABLE search_src_users (
    id        uuid PRIMARY KEY,
    username  text NOT NULL DEFAULT '',
    avatarurl text NOT NULL DEFAULT ''
);

CREATE TABLE search_src_artists (
    id        uuid PRIMARY KEY,
    name      text NOT NULL DEFAULT '',
    avatarurl text NOT NULL DEFAULT ''
);

-- artist_ids in credit order (the first is the Primary artist).
CREATE TABLE search_src_songs (
    id           uuid PRIMARY KEY,
    title        text NOT NULL DEFAULT '',
    thumbnailurl text NOT NULL DEFAULT '',
    duration     integer NOT NULL DEFAULT 0,
    views        bigint NOT NULL DEFAULT 0,
    releasedate  text NOT NULL DEFAULT '',
    genre        text NOT NULL DEFAULT '',
    artist_ids   uuid[] NOT NULL DEFAULT '{}'
);
-- A renamed artist rebuilds every song crediting it.
CREATE INDEX search_src_songs_artists ON search_src_songs USING gin (artist_ids);

CREATE TABLE search_src_collections (
    id           uuid PRIMARY KEY,
    title        text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    thumbnailurl text NOT NULL DEFAULT '',
    type         text NOT NULL DEFAULT '',
    visibility   text NOT NULL DEFAULT '',
    owner_id     uuid NOT NULL
);
-- A renamed or deleted user rebuilds or deletes every collection they own.
CREATE INDEX search_src_collections_owner ON search_src_collections (owner_id);

-- pgsearch: a search for one short word ("d", "em") walks its prefix-only
-- hits in ranking order (popularity, sort key, id) and stops when the page
-- is full, instead of sorting every title that has a word starting with it.
CREATE INDEX search_songs_rank ON search_songs (views DESC, sort_key COLLATE "C", id) WHERE NOT deleted;
CREATE INDEX search_artists_rank ON search_artists (sort_key COLLATE "C", id) WHERE NOT deleted;
CREATE INDEX search_collections_rank ON search_collections (sort_key COLLATE "C", id) WHERE NOT deleted;
CREATE INDEX search_users_rank ON search_users (sort_key COLLATE "C", id) WHERE NOT deleted;

-- +goose Down
DROP INDEX search_users_rank;
DROP INDEX search_collections_rank;
DROP INDEX search_artists_rank;
DROP INDEX search_songs_rank;
DROP TABLE search_src_collections;
DROP TABLE search_src_songs;
DROP TABLE search_src_artists;
DROP TABLE search_src_users;
