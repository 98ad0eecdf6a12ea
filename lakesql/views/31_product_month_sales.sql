-- Per product and UTC month of event time, the sums of its transaction lines (as the live sales
-- table keeps them): line counts, units, gross (purchases), refunds and returns (negative), net.
CREATE OR REPLACE VIEW product_month_sales AS
SELECT product_id,
       strftime(event_time, '%Y-%m') AS month,
       count(*) FILTER (WHERE type = 'purchase') AS purchase_lines,
       count(*) FILTER (WHERE type = 'refund') AS refund_lines,
       count(*) FILTER (WHERE type = 'return') AS return_lines,
       CAST(coalesce(sum(quantity) FILTER (WHERE type = 'purchase'), 0) AS BIGINT) AS units_sold,
       CAST(coalesce(sum(quantity) FILTER (WHERE type = 'refund'), 0) AS BIGINT) AS units_refunded,
       CAST(coalesce(sum(quantity) FILTER (WHERE type = 'return'), 0) AS BIGINT) AS units_returned,
       CAST(coalesce(sum(amount) FILTER (WHERE type = 'purchase'), 0) AS DECIMAL(18, 3)) AS gross,
       CAST(coalesce(sum(amount) FILTER (WHERE type = 'refund'), 0) AS DECIMAL(18, 3)) AS refunds,
       CAST(coalesce(sum(amount) FILTER (WHERE type = 'return'), 0) AS DECIMAL(18, 3)) AS returns,
       CAST(sum(amount) AS DECIMAL(18, 3)) AS net
FROM transactions
GROUP BY ALL;
