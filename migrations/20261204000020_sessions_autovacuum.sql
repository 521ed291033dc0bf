-- Every session write rewrites the session's whole row, and PostgreSQL rewrites a TOASTed jsonb
-- value (any map past ~2 KB) whole on each UPDATE: a busy session leaves a dead copy of its data
-- per write. The defaults vacuum a table only once a fifth of it is dead (scale factor 0.2) and
-- sleep between pages (cost delay), which let one client's note flood grow the table by 177 MB in
-- 20 s. Vacuum this table and its TOAST table after a fixed number of dead rows whatever their
-- size, without the sleeps, so the space is reused instead of added. (The write rate per session,
-- `session_write_burst`, bounds how fast dead copies are made; README, "The note flood".)
ALTER TABLE sessions SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_cost_delay = 0,
    toast.autovacuum_vacuum_scale_factor = 0,
    toast.autovacuum_vacuum_threshold = 500,
    toast.autovacuum_vacuum_cost_delay = 0
);
