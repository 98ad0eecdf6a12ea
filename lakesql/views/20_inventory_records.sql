-- The inventory records the product table applies: one row per event_id per SKU (a repeated
-- event_id is a duplicate and changes nothing; records without an event_id all count).
CREATE OR REPLACE VIEW inventory_records AS
SELECT * FROM inventory
QUALIFY event_id = ''
     OR row_number() OVER (PARTITION BY sku, event_id ORDER BY kafka_partition, kafka_offset) = 1;
