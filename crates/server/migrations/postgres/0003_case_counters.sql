-- Demo histories made before the history reserved its case numbers left case_counters behind
-- the events, so a live report on such a day collided with a history case number. Raise every
-- counter to the highest sequence already used (case_no = city + YYYYMMDD + 5-digit sequence).
INSERT INTO case_counters (prefix, day, n)
SELECT substr(case_no, 1, length(case_no) - 13),
       substr(case_no, length(case_no) - 12, 8),
       MAX(CAST(substr(case_no, length(case_no) - 4) AS INTEGER))
FROM events
GROUP BY substr(case_no, 1, length(case_no) - 13), substr(case_no, length(case_no) - 12, 8)
ON CONFLICT (prefix, day) DO UPDATE
SET n = CASE WHEN excluded.n > case_counters.n THEN excluded.n ELSE case_counters.n END;
