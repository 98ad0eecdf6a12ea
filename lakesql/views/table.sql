-- Newest snapshot of table {{.Group}} ({{.Doc}}): key, value (the table codec's bytes),
-- value_json (the value as JSON: use ->> to read fields), filename.
CREATE OR REPLACE VIEW {{.View}} AS
SELECT * FROM {{snapshot .Group}};
