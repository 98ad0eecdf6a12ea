-- The reports' default as-of time: the newest event time of any transaction line (never the wall
-- clock, so a replayed history reports as it would have live); NULL on an empty lake.
CREATE OR REPLACE VIEW report_as_of AS
SELECT max(event_time) AS as_of FROM transactions;
