-- Field work and evaluation (督导考核).

-- Every activity of a grid worker: shifts (签到 → 签退, online time kept by heartbeats),
-- patrols (巡查, with their track) and visits (走访). `area_code` is the worker's grid at the
-- time; `day` the China day the activity began, which decides its scoring period.
CREATE TABLE activities (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    area_code     TEXT NOT NULL,
    day           TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    last_at       TEXT NOT NULL,
    ended_at      TEXT,
    seconds       BIGINT NOT NULL DEFAULT 0,
    meters        BIGINT NOT NULL DEFAULT 0,
    points        BIGINT NOT NULL DEFAULT 0,
    subject_kind  TEXT,
    subject_id    TEXT,
    subject_label TEXT,
    note          TEXT,
    lon           DOUBLE PRECISION,
    lat           DOUBLE PRECISION,
    photos        TEXT
);
CREATE INDEX activities_user ON activities (user_id, kind, ended_at);
CREATE INDEX activities_day ON activities (day, user_id);
CREATE INDEX activities_area ON activities (area_code, day);
CREATE INDEX activities_subject ON activities (subject_id);

-- Location samples of grid workers on duty; kept for `track_retention_days`.
CREATE TABLE track_points (
    user_id   TEXT NOT NULL,
    at        TEXT NOT NULL,
    lon       DOUBLE PRECISION NOT NULL,
    lat       DOUBLE PRECISION NOT NULL,
    accuracy  DOUBLE PRECISION,
    patrol_id TEXT,
    area_code TEXT NOT NULL,
    PRIMARY KEY (user_id, at)
);
CREATE INDEX track_points_at ON track_points (at);

-- Evaluation schemes (考核方案): one row per version; a version is never changed.
CREATE TABLE eval_schemes (
    id              TEXT PRIMARY KEY,
    subject_kind    TEXT NOT NULL,
    version         BIGINT NOT NULL,
    name            TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      TEXT,
    created_by_name TEXT NOT NULL,
    UNIQUE (subject_kind, version)
);

-- Scores per subject × period, under the scheme in force when the period began; `detail`
-- keeps every indicator's value, target, weight, points and raw counts.
CREATE TABLE eval_scores (
    id            TEXT PRIMARY KEY,
    period_kind   TEXT NOT NULL,
    period_start  TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject_code  TEXT NOT NULL,
    subject_name  TEXT NOT NULL,
    area_code     TEXT NOT NULL,
    scheme_id     TEXT NOT NULL REFERENCES eval_schemes (id),
    score         DOUBLE PRECISION NOT NULL,
    grade         TEXT NOT NULL,
    stars         BIGINT NOT NULL,
    detail        TEXT NOT NULL,
    UNIQUE (period_kind, period_start, subject_kind, subject_code)
);
CREATE INDEX eval_scores_board ON eval_scores (period_kind, period_start, subject_kind, area_code);

-- Which periods have been scored (the weekly and monthly jobs look here).
CREATE TABLE eval_runs (
    period_kind  TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    computed_at  TEXT NOT NULL,
    scores       BIGINT NOT NULL,
    PRIMARY KEY (period_kind, period_start)
);

-- Bulletins (通报): the PDF and xlsx as generated, kept.
CREATE TABLE bulletins (
    id           TEXT PRIMARY KEY,
    area_code    TEXT NOT NULL,
    period_kind  TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    title        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT,
    pdf          BYTEA NOT NULL,
    xlsx         BYTEA NOT NULL
);
CREATE INDEX bulletins_area ON bulletins (area_code, period_start);

-- The editable bulletin template of each period kind.
CREATE TABLE bulletin_templates (
    period_kind TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    intro       TEXT NOT NULL,
    closing     TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    top_n       BIGINT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT
);

-- Online patrol (网上巡查): samples of what grid workers entered, reviewed by a centre.
CREATE TABLE inspections (
    id            TEXT PRIMARY KEY,
    area_code     TEXT NOT NULL,
    record_kind   TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    record_label  TEXT NOT NULL,
    worker_id     TEXT NOT NULL,
    worker_name   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    changes       TEXT NOT NULL,
    status        TEXT NOT NULL,
    note          TEXT,
    created_at    TEXT NOT NULL,
    created_by    TEXT,
    reviewed_at   TEXT,
    reviewer_id   TEXT,
    reviewer_name TEXT,
    fixed_at      TEXT,
    fixed_note    TEXT
);
CREATE INDEX inspections_area ON inspections (area_code, status);
CREATE INDEX inspections_worker ON inspections (worker_id, status);
CREATE INDEX inspections_record ON inspections (record_id);

-- What a grid worker did in a period: verifications and base records (events reported use
-- `events_reporter`).
CREATE INDEX record_changes_actor ON record_changes (actor_id, at);
CREATE INDEX event_moves_actor ON event_moves (actor_id, at);
