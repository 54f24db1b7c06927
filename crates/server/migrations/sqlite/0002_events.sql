-- The event closed loop: catalog, departments, calendar, events with their timeline, photos,
-- timers, supervision, extensions, notifications and webhook deliveries.
-- Keep the PostgreSQL twin (../postgres/0002_events.sql) table-for-table identical.

-- 职能部门, each attached to one area (a county's 司法局, a township's 综治中心 …).
CREATE TABLE departments (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    webhook_url    TEXT,
    webhook_secret TEXT,
    created_at     TEXT NOT NULL,
    UNIQUE (area_code, code)
);
ALTER TABLE users ADD COLUMN department_id TEXT;

-- Event categories: groups (parent_code NULL) and the categories reported under them.
CREATE TABLE categories (
    code               TEXT PRIMARY KEY,
    parent_code        TEXT,
    name               TEXT NOT NULL,
    department_code    TEXT,
    priority           TEXT,
    sources            TEXT,
    photo_required     BIGINT NOT NULL DEFAULT 0,
    duplicate_radius_m BIGINT NOT NULL DEFAULT 100,
    auto_escalate      BIGINT NOT NULL DEFAULT 0,
    limits             TEXT,
    sort               BIGINT NOT NULL
);

-- Time limits of a category overridden for one area (and everything below it).
CREATE TABLE category_limits (
    area_code     TEXT NOT NULL,
    category_code TEXT NOT NULL REFERENCES categories (code),
    limits        TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (area_code, category_code)
);

-- 事项准入清单: additions to the categories grid workers may report, per area.
CREATE TABLE admission_requests (
    id            TEXT PRIMARY KEY,
    area_code     TEXT NOT NULL,
    category_code TEXT NOT NULL REFERENCES categories (code),
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT,
    decision_note TEXT
);
CREATE INDEX admission_requests_area ON admission_requests (area_code, status);

-- Year files of the working-day calendar (holidays and 调休 workdays) as data.
CREATE TABLE calendar_years (
    year       BIGINT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_by TEXT,
    updated_at TEXT NOT NULL
);

-- Keys of external systems (video alarms …) that may report events.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    area_code  TEXT NOT NULL,
    source     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Case numbers: city code + date + a sequence per city and day.
CREATE TABLE case_counters (
    prefix TEXT NOT NULL,
    day    TEXT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (prefix, day)
);

CREATE TABLE events (
    id                 TEXT PRIMARY KEY,
    case_no            TEXT NOT NULL UNIQUE,
    category_code      TEXT NOT NULL,
    area_code          TEXT NOT NULL,
    centre_area        TEXT NOT NULL,
    assignee_kind      TEXT,
    assignee           TEXT,
    dept_id            TEXT,
    state              TEXT NOT NULL,
    source             TEXT NOT NULL,
    priority           TEXT NOT NULL,
    description        TEXT NOT NULL,
    address            TEXT,
    lon                REAL,
    lat                REAL,
    reporter_id        TEXT NOT NULL,
    reporter_name      TEXT NOT NULL,
    reporter_role      TEXT NOT NULL,
    contact_name       TEXT,
    contact_phone      TEXT,
    idempotency_key    TEXT,
    version            BIGINT NOT NULL DEFAULT 1,
    step               TEXT,
    step_started_at    TEXT,
    step_limit_min     BIGINT,
    step_used_min      BIGINT NOT NULL DEFAULT 0,
    deadline_at        TEXT,
    light              TEXT,
    held_from          TEXT,
    resume_state       TEXT,
    handler_id         TEXT,
    reported_at        TEXT NOT NULL,
    accepted_at        TEXT,
    dispatched_at      TEXT,
    handled_at         TEXT,
    verified_at        TEXT,
    closed_at          TEXT,
    updated_at         TEXT NOT NULL,
    dispatch_late      BIGINT NOT NULL DEFAULT 0,
    handle_late        BIGINT NOT NULL DEFAULT 0,
    verify_late        BIGINT NOT NULL DEFAULT 0,
    rework_count       BIGINT NOT NULL DEFAULT 0,
    return_count       BIGINT NOT NULL DEFAULT 0,
    escalation_count   BIGINT NOT NULL DEFAULT 0,
    supervision_count  BIGINT NOT NULL DEFAULT 0,
    hold_minutes       BIGINT NOT NULL DEFAULT 0,
    work_minutes       BIGINT,
    evaluation         TEXT,
    evaluation_comment TEXT,
    merged_into        TEXT
);
CREATE INDEX events_area ON events (area_code, reported_at);
CREATE INDEX events_reported ON events (reported_at);
CREATE INDEX events_centre ON events (centre_area, state);
CREATE INDEX events_assignee ON events (assignee, state);
CREATE INDEX events_dept ON events (dept_id, reported_at);
CREATE INDEX events_reporter ON events (reporter_id, reported_at);
CREATE INDEX events_duplicates ON events (category_code, lon);

-- Idempotency keys of reports: a retried submission finds the event it created.
CREATE TABLE idempotency_keys (
    reporter_id TEXT NOT NULL,
    key         TEXT NOT NULL,
    event_id    TEXT NOT NULL REFERENCES events (id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (reporter_id, key)
);

-- The timeline: one row per move, never rewritten.
CREATE TABLE event_moves (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL REFERENCES events (id),
    seq         BIGINT NOT NULL,
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    actor_role  TEXT,
    at          TEXT NOT NULL,
    note        TEXT,
    detail      TEXT,
    UNIQUE (event_id, seq)
);

-- Photos of a move, stored on disk by their SHA-256.
CREATE TABLE event_photos (
    move_id    TEXT NOT NULL REFERENCES event_moves (id),
    event_id   TEXT NOT NULL REFERENCES events (id),
    sha256     TEXT NOT NULL,
    mime       TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    lon        REAL,
    lat        REAL,
    PRIMARY KEY (move_id, sha256)
);
CREATE INDEX event_photos_event ON event_photos (event_id);
CREATE INDEX event_photos_sha ON event_photos (sha256);

-- Deadline timers: the ticker turns a light yellow or red when a row falls due.
CREATE TABLE event_timers (
    event_id TEXT NOT NULL REFERENCES events (id),
    kind     TEXT NOT NULL,
    due_at   TEXT NOT NULL,
    PRIMARY KEY (event_id, kind)
);
CREATE INDEX event_timers_due ON event_timers (due_at);

CREATE TABLE supervisions (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL REFERENCES events (id),
    by_id      TEXT NOT NULL,
    by_name    TEXT NOT NULL,
    by_area    TEXT NOT NULL,
    opinion    TEXT NOT NULL,
    reply_due  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    reply      TEXT,
    replied_by TEXT,
    replied_at TEXT
);
CREATE INDEX supervisions_event ON supervisions (event_id);
CREATE INDEX supervisions_by ON supervisions (by_id, created_at);

CREATE TABLE extensions (
    id           TEXT PRIMARY KEY,
    event_id     TEXT NOT NULL REFERENCES events (id),
    days         BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    note         TEXT
);
CREATE INDEX extensions_event ON extensions (event_id);

-- Per-user inbox. Ids are deterministic where a notice must not repeat (timers).
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    event_id   TEXT,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at, created_at);

-- Outbound webhooks of departments: an outbox written with the move, delivered by the ticker.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    department_id   TEXT NOT NULL REFERENCES departments (id),
    event_id        TEXT,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_dept ON webhook_deliveries (department_id, created_at);
