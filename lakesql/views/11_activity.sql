-- One row per clean clickstream event (lake/events/activity); users are pseudonyms.
CREATE OR REPLACE VIEW activity AS
SELECT * FROM {{events "activity"}};
