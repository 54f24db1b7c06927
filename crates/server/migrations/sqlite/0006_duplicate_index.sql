-- The duplicate check at intake filters open events of a category by a box around the
-- report: with latitude and time in the index, only true neighbours are read from the table.
DROP INDEX events_duplicates;
CREATE INDEX events_duplicates ON events (category_code, lon, lat, reported_at);
