-- The indicator rollup: the counts of DOMAIN.md §4 summed per China reporting day, county,
-- category and department, kept in the same transaction as every event change, so that
-- statistics over a city and a month read thousands of rows instead of a million events.
-- Filled from the events when this migration is applied (Db::migrate).
CREATE TABLE event_facts (
    day                 TEXT NOT NULL,
    county              TEXT NOT NULL,
    category_code       TEXT NOT NULL,
    dept_id             TEXT NOT NULL,
    reported            BIGINT NOT NULL,
    voided              BIGINT NOT NULL,
    merged              BIGINT NOT NULL,
    should_dispatch     BIGINT NOT NULL,
    dispatched_on_time  BIGINT NOT NULL,
    returned            BIGINT NOT NULL,
    should_close        BIGINT NOT NULL,
    closed              BIGINT NOT NULL,
    closed_on_time      BIGINT NOT NULL,
    reworks             BIGINT NOT NULL,
    should_verify       BIGINT NOT NULL,
    verified_on_time    BIGINT NOT NULL,
    evaluated           BIGINT NOT NULL,
    satisfied           BIGINT NOT NULL,
    basically_satisfied BIGINT NOT NULL,
    unsatisfied         BIGINT NOT NULL,
    handle_minutes      BIGINT NOT NULL,
    PRIMARY KEY (day, county, category_code, dept_id)
);
