-- Top 10 products by units in purchase lines over the last complete UTC calendar month before
-- the default as-of time (report_as_of), ties by product id.
CREATE OR REPLACE VIEW top_products_last_month AS
SELECT * FROM top_products((
    SELECT strftime(date_trunc('month', as_of) - INTERVAL 1 MONTH, '%Y-%m') FROM report_as_of
));
