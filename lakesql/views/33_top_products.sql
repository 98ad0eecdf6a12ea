-- top_products(month): the 10 products with the most units in purchase lines in month
-- ('YYYY-MM'), ties by product id; gross = Σ amount of those lines. Products without a purchase
-- in the month are left out.
CREATE OR REPLACE MACRO top_products(m) AS TABLE
SELECT m AS month,
       CAST(row_number() OVER (ORDER BY units DESC, product_id) AS INTEGER) AS rank,
       product_id, units, gross
FROM (
    SELECT product_id, CAST(sum(quantity) AS BIGINT) AS units, CAST(sum(amount) AS DECIMAL(18, 3)) AS gross
    FROM transactions
    WHERE type = 'purchase' AND strftime(event_time, '%Y-%m') = m
    GROUP BY product_id
)
WHERE units > 0
ORDER BY rank
LIMIT 10;
