-- Inventory turnover per product and month as of the default as-of time (report_as_of); the rule
-- is inventory_turnover_at's.
CREATE OR REPLACE VIEW inventory_turnover AS
SELECT * FROM inventory_turnover_at((SELECT as_of FROM report_as_of));
