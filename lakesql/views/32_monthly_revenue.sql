-- Monthly revenue per UTC month of event time: gross (purchases), refunds, returns (negative),
-- net = gross + refunds + returns, orders = distinct order ids with a purchase line in the month,
-- and the month-over-month change of net: change = net − the previous month's net (the previous
-- month with sales), change_pct = change / |previous net| × 100 (NULL when that net is 0).
CREATE OR REPLACE VIEW monthly_revenue AS
WITH m AS (
    SELECT strftime(event_time, '%Y-%m') AS month,
           CAST(coalesce(sum(amount) FILTER (WHERE type = 'purchase'), 0) AS DECIMAL(18, 3)) AS gross,
           CAST(coalesce(sum(amount) FILTER (WHERE type = 'refund'), 0) AS DECIMAL(18, 3)) AS refunds,
           CAST(coalesce(sum(amount) FILTER (WHERE type = 'return'), 0) AS DECIMAL(18, 3)) AS returns,
           CAST(sum(amount) AS DECIMAL(18, 3)) AS net,
           count(DISTINCT order_id) FILTER (WHERE type = 'purchase') AS orders,
           count(*) FILTER (WHERE type = 'purchase') AS purchase_lines,
           count(*) FILTER (WHERE type = 'refund') AS refund_lines,
           count(*) FILTER (WHERE type = 'return') AS return_lines,
           CAST(coalesce(sum(quantity) FILTER (WHERE type = 'purchase'), 0) AS BIGINT) AS units_sold
    FROM transactions
    GROUP BY 1
), c AS (
    SELECT *, CAST(net - lag(net) OVER (ORDER BY month) AS DECIMAL(18, 3)) AS change,
           CAST(lag(net) OVER (ORDER BY month) * 1000 AS BIGINT) AS previous_thousandths
    FROM m
)
SELECT month, gross, refunds, returns, net, orders, purchase_lines, refund_lines, return_lines, units_sold,
       change,
       -- The same float operations as package reports, on thousandths, so both print alike.
       CASE WHEN previous_thousandths <> 0
            THEN CAST(CAST(change * 1000 AS BIGINT) AS DOUBLE) / CAST(abs(previous_thousandths) AS DOUBLE) * 100
       END AS change_pct
FROM c
ORDER BY month;
