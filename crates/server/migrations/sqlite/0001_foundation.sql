-- Foundation: areas, grids and boundaries, accounts and sessions, audit.
-- Keep the PostgreSQL twin (../postgres/0001_foundation.sql) table-for-table identical.

-- Official divisions. A code's row is end-dated (valid_to) when a newer division year
-- renames or abolishes it; the current row has valid_to NULL.
CREATE TABLE areas (
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT,
    valid_from  BIGINT NOT NULL,
    valid_to    BIGINT,
    PRIMARY KEY (code, valid_from)
);
CREATE UNIQUE INDEX areas_current ON areas (code) WHERE valid_to IS NULL;
CREATE INDEX areas_parent ON areas (parent_code) WHERE valid_to IS NULL;

CREATE TABLE grids (
    code              TEXT PRIMARY KEY,
    village_code      TEXT NOT NULL,
    name              TEXT NOT NULL,
    grid_type         TEXT NOT NULL,
    household_target  BIGINT,
    population_target BIGINT,
    status            TEXT NOT NULL DEFAULT 'active',
    created_at        TEXT NOT NULL,
    created_by        TEXT
);
CREATE INDEX grids_village ON grids (village_code);

-- Approved boundaries with history; the current one has valid_to NULL.
CREATE TABLE grid_boundaries (
    id          TEXT PRIMARY KEY,
    grid_code   TEXT NOT NULL REFERENCES grids (code),
    geojson     TEXT NOT NULL,
    min_lon     REAL NOT NULL,
    min_lat     REAL NOT NULL,
    max_lon     REAL NOT NULL,
    max_lat     REAL NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    approved_by TEXT,
    request_id  TEXT
);
CREATE INDEX grid_boundaries_grid ON grid_boundaries (grid_code, valid_from);
CREATE UNIQUE INDEX grid_boundaries_current ON grid_boundaries (grid_code) WHERE valid_to IS NULL;

CREATE TABLE grid_change_requests (
    id            TEXT PRIMARY KEY,
    grid_code     TEXT NOT NULL REFERENCES grids (code),
    geojson       TEXT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT,
    decision_note TEXT
);
CREATE INDEX grid_change_requests_grid ON grid_change_requests (grid_code, status);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    area_code           TEXT NOT NULL,
    roles               TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'active',
    failed_count        BIGINT NOT NULL DEFAULT 0,
    first_failed_at     TEXT,
    locked_until        TEXT,
    password_changed_at TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE INDEX users_area ON users (area_code);

-- Grid workers and chiefs of each grid.
CREATE TABLE grid_members (
    grid_code   TEXT NOT NULL REFERENCES grids (code),
    user_id     TEXT NOT NULL REFERENCES users (id),
    duty        TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (grid_code, user_id, duty)
);

-- Sessions are stored by the SHA-256 of their token; the token itself is never stored.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    source_ip    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Append-only, hash-chained audit log. audit_chain holds the head; updating it in the
-- writing transaction serialises writers so the chain never forks.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    user_id     TEXT,
    username    TEXT,
    role        TEXT,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_id   TEXT,
    area_code   TEXT,
    result      TEXT NOT NULL,
    source_ip   TEXT,
    detail      TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_area ON audit_log (area_code, seq);
CREATE TABLE audit_chain (
    id        INTEGER PRIMARY KEY,
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, last_seq, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
