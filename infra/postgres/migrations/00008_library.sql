-- +goose Up
-- Read models of the "follows" and "history" projectors: a listener's
-- followed artists and listen history. Deliberately no foreign keys to the
-- catalog tables: each projector owns its tables and replays on its own;
-- queries join the catalog, so a row whose artist or song is gone is never
-- shown, and the projectors delete such rows on ArtistDeleted / SongDeleted.
CREATE TABLE follows (
    user_id     uuid NOT NULL,
    artist_id   uuid NOT NULL,
    followed_at timestamptz NOT NULL,
    -- the follow's global log position: "newest first" without ties
    position    bigint NOT NULL,
    PRIMARY KEY (user_id, artist_id)
);
CREATE INDEX follows_user_idx ON follows (user_id, position DESC);
CREATE INDEX follows_artist_idx ON follows (artist_id);

-- One row per (user, song): the latest listen of the song and how many
-- listens it had ("upsert" semantics of the old backend).
CREATE TABLE listen_history (
    user_id       uuid NOT NULL,
    song_id       uuid NOT NULL,
    last_listened timestamptz NOT NULL,
    plays         integer NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, song_id)
);
CREATE INDEX listen_history_recent_idx ON listen_history (user_id, last_listened DESC, song_id);
CREATE INDEX listen_history_song_idx ON listen_history (song_id);

-- +goose Down
DROP TABLE listen_history;
DROP TABLE follows;
