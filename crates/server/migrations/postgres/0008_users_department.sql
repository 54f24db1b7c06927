-- Notices to a department find its liaisons by index (every dispatch and handling
-- move sends one; without it each was a scan of all users).
CREATE INDEX users_department ON users (department_id);
