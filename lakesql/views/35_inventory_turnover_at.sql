-- inventory_turnover_at(as_of): per product (sold, or known to inventory) and per month with sales
-- up to as_of's month, the turnover inputs and ratios. The rule (README "Inventory turnover",
-- package reports' TurnoverRow): units_sold = Σ quantity of purchase lines; the closing level of a
-- day is the units of the product's last stock_report of that day by (event time, event id),
-- carried forward, unknown before the first; closing_days counts the month's days up to as_of with
-- a known level, closing_units_sum adds the levels, closing_value_sum adds level × the cost in
-- force that day (the last product_info cost at or before it, else the current cost); unit_cost is
-- the current cost (the newest product_info cost); cogs = units_sold × unit_cost;
-- turnover = units_sold × closing_days / closing_units_sum; value_turnover = cogs × closing_days /
-- closing_value_sum; days_of_inventory = days in month / turnover; avg_inventory_value rounded
-- half away from zero to a cent.
CREATE OR REPLACE MACRO inventory_turnover_at(as_of) AS TABLE
WITH bound AS (
    SELECT CAST(as_of AS DATE) AS last_day, strftime(as_of, '%Y-%m') AS last_month
), rec AS (
    SELECT sku, type, units, cost, event_time, event_id, CAST(event_time AS DATE) AS day
    FROM inventory_records, bound
    WHERE CAST(event_time AS DATE) <= bound.last_day
), current_cost AS (
    SELECT sku, arg_max(cost, (event_time, event_id)) AS unit_cost
    FROM inventory_records
    WHERE type = 'product_info' AND cost IS NOT NULL
    GROUP BY sku
), level_days AS (
    SELECT sku, day, arg_max(units, (event_time, event_id)) AS level
    FROM rec WHERE type = 'stock_report' GROUP BY sku, day
), cost_days AS (
    SELECT sku, day, arg_max(cost, (event_time, event_id)) AS cost
    FROM rec WHERE type = 'product_info' AND cost IS NOT NULL GROUP BY sku, day
), series AS (
    SELECT sku, CAST(unnest(generate_series(first_day, (SELECT last_day FROM bound), INTERVAL 1 DAY)) AS DATE) AS day
    FROM (SELECT sku, min(day) AS first_day FROM rec GROUP BY sku)
), daily AS (
    SELECT s.sku, s.day,
           last_value(l.level IGNORE NULLS) OVER w AS level,
           last_value(c.cost IGNORE NULLS) OVER w AS cost
    FROM series s
    LEFT JOIN level_days l ON l.sku = s.sku AND l.day = s.day
    LEFT JOIN cost_days c ON c.sku = s.sku AND c.day = s.day
    WINDOW w AS (PARTITION BY s.sku ORDER BY s.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), closing AS (
    SELECT d.sku, strftime(d.day, '%Y-%m') AS month,
           count(*) AS days,
           CAST(sum(d.level) AS BIGINT) AS units_sum,
           CAST(coalesce(sum(d.level * coalesce(d.cost, cc.unit_cost)), 0) AS DECIMAL(18, 3)) AS value_sum
    FROM daily d LEFT JOIN current_cost cc ON cc.sku = d.sku
    WHERE d.level IS NOT NULL
    GROUP BY ALL
), months AS (
    SELECT DISTINCT strftime(event_time, '%Y-%m') AS month
    FROM transactions
    WHERE strftime(event_time, '%Y-%m') <= (SELECT last_month FROM bound)
), products AS (
    SELECT product_id FROM transactions UNION SELECT sku FROM inventory
), sold AS (
    SELECT product_id, strftime(event_time, '%Y-%m') AS month, CAST(sum(quantity) AS BIGINT) AS units_sold
    FROM transactions WHERE type = 'purchase' GROUP BY ALL
), sums AS (
    SELECT m.month, p.product_id,
           coalesce(s.units_sold, 0) AS units_sold,
           cc.unit_cost,
           CAST(cc.unit_cost * coalesce(s.units_sold, 0) AS DECIMAL(18, 3)) AS cogs,
           coalesce(c.days, 0) AS closing_days,
           coalesce(c.units_sum, 0) AS closing_units_sum,
           coalesce(c.value_sum, 0) AS closing_value_sum,
           day(last_day(strptime(m.month || '-01', '%Y-%m-%d'))) AS days_in_month
    FROM months m CROSS JOIN products p
    LEFT JOIN sold s ON s.product_id = p.product_id AND s.month = m.month
    LEFT JOIN current_cost cc ON cc.sku = p.product_id
    LEFT JOIN closing c ON c.sku = p.product_id AND c.month = m.month
), ratios AS (
    -- The same float operations as package reports, so both print alike.
    SELECT *,
           CASE WHEN closing_days > 0 AND closing_units_sum > 0
                THEN CAST(units_sold AS DOUBLE) * CAST(closing_days AS DOUBLE) / CAST(closing_units_sum AS DOUBLE)
           END AS turnover,
           CASE WHEN closing_days > 0 AND cogs IS NOT NULL AND closing_value_sum > 0
                THEN CAST(CAST(cogs * 1000 AS BIGINT) AS DOUBLE) * CAST(closing_days AS DOUBLE)
                     / CAST(CAST(closing_value_sum * 1000 AS BIGINT) AS DOUBLE)
           END AS value_turnover,
           CAST(closing_value_sum * 1000 AS BIGINT) AS value_thousandths
    FROM sums
)
SELECT month, product_id, units_sold, unit_cost, cogs, closing_days, closing_units_sum, closing_value_sum,
       CASE WHEN closing_days > 0 THEN CAST(closing_units_sum AS DOUBLE) / CAST(closing_days AS DOUBLE) ELSE 0 END AS avg_on_hand,
       -- Whole cents, rounded half away from zero, in exact decimal arithmetic.
       CAST(CAST(CASE WHEN closing_days > 0
                      THEN sign(value_thousandths) * ((abs(value_thousandths) + 5 * closing_days) // (10 * closing_days))
                      ELSE 0 END AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(18, 3)) AS avg_inventory_value,
       turnover, value_turnover,
       CASE WHEN turnover > 0 THEN CAST(days_in_month AS DOUBLE) / turnover END AS days_of_inventory
FROM ratios
ORDER BY month, product_id;
