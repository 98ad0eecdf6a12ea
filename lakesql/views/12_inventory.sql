-- One row per standardized inventory record (lake/events/inventory): stock_report, restock or
-- product_info. The gateway passes a repeated event_id on purpose (the product table drops it):
-- count distinct event_id, or use inventory_records.
CREATE OR REPLACE VIEW inventory AS
SELECT * FROM {{events "inventory"}};
