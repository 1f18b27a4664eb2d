-- +goose Up
-- Read models of the "listenstats" projector, built only from ListenRecorded:
-- plays per song per UTC day and plays per listener per UTC day (the day of
-- the event's listened_at). Deliberately no foreign keys: a deleted song or
-- account keeps its history of plays, and the projector replays on its own.
CREATE TABLE song_plays_daily (
    song_id uuid   NOT NULL,
    day     date   NOT NULL,
    plays   bigint NOT NULL,
    PRIMARY KEY (song_id, day)
);
-- "top songs since a day" and "plays per day" scan by day.
CREATE INDEX song_plays_daily_day_idx ON song_plays_daily (day, song_id);

CREATE TABLE user_plays_daily (
    user_id uuid   NOT NULL,
    day     date   NOT NULL,
    plays   bigint NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- +goose Down
DROP TABLE user_plays_daily;
DROP TABLE song_plays_daily;
