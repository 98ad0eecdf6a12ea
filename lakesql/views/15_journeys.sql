-- One row per journey record as archived (lake/events/journeys). Journeys are not fenced: a
-- restarted processor may release a journey again with the same origin; purchase_journeys counts
-- each once.
CREATE OR REPLACE VIEW journeys AS
SELECT * FROM {{events "journeys"}};
