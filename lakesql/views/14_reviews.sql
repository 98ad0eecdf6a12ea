-- The clean reviews: another name for feedback.
CREATE OR REPLACE VIEW reviews AS
SELECT * FROM feedback;
