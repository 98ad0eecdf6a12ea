-- One row per clean review (lake/events/feedback); reviewers are pseudonyms.
CREATE OR REPLACE VIEW feedback AS
SELECT * FROM {{events "feedback"}};
