-- One row per purchase journey (the session that led to an order), each counted once per
-- (origin, order_id) however often a restarted processor released it.
CREATE OR REPLACE VIEW purchase_journeys AS
SELECT * FROM journeys
QUALIFY row_number() OVER (PARTITION BY origin, order_id ORDER BY kafka_partition, kafka_offset) = 1;
