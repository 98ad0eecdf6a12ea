-- One row per clean transaction line (lake/events/transactions): purchase, refund or return;
-- amount = quantity × unit_price, negative for refunds and returns; money DECIMAL(18,3).
CREATE OR REPLACE VIEW transactions AS
SELECT * FROM {{events "transactions"}};
