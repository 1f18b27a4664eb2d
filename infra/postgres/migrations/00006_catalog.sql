-- +goose Up
-- Read models of the "catalog" projector: artists, songs and who is credited
-- on which song. Text columns are NOT NULL with '' defaults because the
-- frontend breaks on null strings.
CREATE TABLE artists (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    avatarurl   text NOT NULL DEFAULT '',
    country     text NOT NULL DEFAULT '',
    managerid   text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    position    bigint NOT NULL
);
CREATE INDEX artists_created_idx ON artists (created_at, id);
CREATE INDEX artists_manager_idx ON artists (managerid, created_at, id);

CREATE TABLE songs (
    id           uuid PRIMARY KEY,
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    thumbnailurl text NOT NULL DEFAULT '',
    duration     integer NOT NULL DEFAULT 0,
    releasedate  text NOT NULL DEFAULT '',
    genre        text NOT NULL DEFAULT '',
    views        bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    position     bigint NOT NULL
);
CREATE INDEX songs_created_idx ON songs (created_at, id);

-- ord 0 is the Primary artist, the rest are Featured, in the order given.
CREATE TABLE song_artists (
    song_id   uuid NOT NULL REFERENCES songs (id) ON DELETE CASCADE,
    artist_id uuid NOT NULL,
    ord       integer NOT NULL,
    PRIMARY KEY (song_id, artist_id)
);
CREATE INDEX song_artists_artist_idx ON song_artists (artist_id, song_id);

-- +goose Down
DROP TABLE song_artists;
DROP TABLE songs;
DROP TABLE artists;
