-- Base data (人、地、物、事、组织, GB/T 31000): code tables, standard addresses, houses,
-- households, people, organisations, their change history and the search index.
-- Keep the SQLite twin (../sqlite/0005_base_data.sql) table-for-table identical.
-- ID numbers and phones are stored only as AES-256-GCM ciphertext (`*_enc`) and HMAC blind
-- indexes (`*_blind`) for exact lookup; nothing personal is kept in clear but names.

-- Versioned code tables: a code is valid from `valid_from` until `valid_to` (exclusive).
CREATE TABLE dict_items (
    dict_type    TEXT NOT NULL,
    code         TEXT NOT NULL,
    label        TEXT NOT NULL,
    standard_ref TEXT,
    valid_from   TEXT NOT NULL,
    valid_to     TEXT,
    sort         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dict_type, code, valid_from)
);

-- 标准地址: a village/community, then road · number · place · building · unit · room.
CREATE TABLE addresses (
    id         TEXT PRIMARY KEY,
    village    TEXT NOT NULL,
    area_code  TEXT NOT NULL,
    street_key TEXT NOT NULL,
    road       TEXT,
    number     TEXT,
    place      TEXT,
    building   TEXT,
    unit       TEXT,
    room       TEXT,
    full_text  TEXT NOT NULL,
    lon        DOUBLE PRECISION,
    lat        DOUBLE PRECISION,
    created_at TEXT NOT NULL,
    UNIQUE (village, street_key)
);
CREATE INDEX addresses_area ON addresses (area_code);

-- 实有房屋 (出租房屋 when is_rental).
CREATE TABLE houses (
    id            TEXT PRIMARY KEY,
    house_no      TEXT NOT NULL UNIQUE,
    address_id    TEXT NOT NULL REFERENCES addresses (id),
    area_code     TEXT NOT NULL,
    name          TEXT,
    purpose       TEXT,
    use_type      TEXT,
    floor_area    DOUBLE PRECISION,
    hazard        TEXT,
    owner_name    TEXT,
    owner_id_type TEXT,
    owner_id_enc  TEXT,
    owner_id_blind TEXT,
    owner_phone_enc TEXT,
    is_rental     BIGINT NOT NULL DEFAULT 0,
    lon           DOUBLE PRECISION,
    lat           DOUBLE PRECISION,
    state         TEXT NOT NULL DEFAULT 'active',
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX houses_address ON houses (address_id);
CREATE INDEX houses_area ON houses (area_code);

-- 户: one household lives at one address (usually in one house).
CREATE TABLE households (
    id             TEXT PRIMARY KEY,
    household_no   TEXT NOT NULL UNIQUE,
    address_id     TEXT NOT NULL REFERENCES addresses (id),
    house_id       TEXT REFERENCES houses (id),
    area_code      TEXT NOT NULL,
    head_person_id TEXT,
    state          TEXT NOT NULL DEFAULT 'active',
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX households_address ON households (address_id);

-- 非公有制经济组织 (kind nonpublic) and 社会组织 (kind social).
CREATE TABLE orgs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    uscc             TEXT UNIQUE,
    name             TEXT NOT NULL,
    category         TEXT,
    address_id       TEXT REFERENCES addresses (id),
    area_code        TEXT NOT NULL,
    phone_enc        TEXT,
    phone_blind      TEXT,
    legal_rep_name   TEXT,
    legal_rep_id_enc TEXT,
    legal_rep_id_blind TEXT,
    legal_rep_phone_enc TEXT,
    employees        BIGINT,
    extra            TEXT,
    lon              DOUBLE PRECISION,
    lat              DOUBLE PRECISION,
    state            TEXT NOT NULL DEFAULT 'active',
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX orgs_area ON orgs (area_code);
CREATE INDEX orgs_address ON orgs (address_id);

-- 实有人口 (kind registered / floating / foreign / left_behind), with the common person block
-- in columns and each kind's own fields in `extra` (JSON). Special-population and key-youth
-- data sit in `special` (JSON) behind `special_type`; only authorised roles read them.
CREATE TABLE people (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    used_name     TEXT,
    sex           TEXT,
    birth_date    TEXT,
    nation        TEXT,
    native_place  TEXT,
    marriage      TEXT,
    party         TEXT,
    education     TEXT,
    religion      TEXT,
    occupation    TEXT,
    employer      TEXT,
    id_type       TEXT NOT NULL,
    id_enc        TEXT,
    id_blind      TEXT UNIQUE,
    id_tail4      TEXT,
    id_tail6      TEXT,
    phone_enc     TEXT,
    phone_blind   TEXT,
    household_id  TEXT REFERENCES households (id),
    relation      TEXT,
    house_id      TEXT REFERENCES houses (id),
    residence     TEXT,
    address_id    TEXT REFERENCES addresses (id),
    org_id        TEXT REFERENCES orgs (id),
    area_code     TEXT NOT NULL,
    special_type  TEXT,
    special       TEXT,
    extra         TEXT,
    state         TEXT NOT NULL DEFAULT 'active',
    version       BIGINT NOT NULL DEFAULT 1,
    created_by    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX people_area ON people (area_code);
CREATE INDEX people_tail4 ON people (id_tail4);
CREATE INDEX people_tail6 ON people (id_tail6);
CREATE INDEX people_phone ON people (phone_blind);
CREATE INDEX people_household ON people (household_id);
CREATE INDEX people_house ON people (house_id);
CREATE INDEX people_address ON people (address_id);
CREATE INDEX people_org ON people (org_id);

-- Every change of a record: who, when, which field, old → new (personal data masked).
CREATE TABLE record_changes (
    id          TEXT PRIMARY KEY,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    actor_id    TEXT,
    actor_name  TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX record_changes_entity ON record_changes (entity_id, at);

-- Chinese search: every character pair (bigram) of a name, and a single-character name's
-- one character (and people's whole names), pointing at the record; `area_code` keeps lookups
-- inside the caller's scope. One index serves lookups, paging in index order and deletes.
CREATE TABLE search_grams (
    gram      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    ref_id    TEXT NOT NULL,
    area_code TEXT NOT NULL
);
CREATE INDEX search_grams_lookup ON search_grams (gram, kind, area_code, ref_id);

-- 五码关联: a person's events are found by their phone.
CREATE INDEX events_contact_phone ON events (contact_phone);
