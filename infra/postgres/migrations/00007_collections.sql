-- +goose Up
-- Read models of the "collections" projector: playlists, mixes, albums,
-- singles and EPs, and their songs. Text columns are NOT NULL with ''
-- defaults because the frontend breaks on null strings.
CREATE TABLE collections (
    id           uuid PRIMARY KEY,
    title        text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    thumbnailurl text NOT NULL DEFAULT '',
    type         text NOT NULL DEFAULT 'Playlist',
    visibility   text NOT NULL DEFAULT 'Public',
    owner_id     uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    -- global position of the last event that changed the row
    position     bigint NOT NULL
);
CREATE INDEX collections_created_idx ON collections (created_at DESC, id DESC);
CREATE INDEX collections_type_idx ON collections (type, created_at DESC, id DESC);
CREATE INDEX collections_owner_idx ON collections (owner_id, created_at DESC, id DESC);

-- ord is the global position of the SongAddedToCollection event: songs are
-- listed in the order they were added, and a replay gives the same order.
CREATE TABLE collection_songs (
    collection_id uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    song_id       uuid NOT NULL,
    ord           bigint NOT NULL,
    PRIMARY KEY (collection_id, song_id)
);
CREATE INDEX collection_songs_order_idx ON collection_songs (collection_id, ord);
-- SongDeleted removes a song from every collection.
CREATE INDEX collection_songs_song_idx ON collection_songs (song_id);

-- +goose Down
DROP TABLE collection_songs;
DROP TABLE collections;
