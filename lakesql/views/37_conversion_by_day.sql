-- Conversion per UTC day: active_users = distinct users with an activity event, purchasers =
-- distinct users with a purchase line, conversion_rate = purchasers / active_users; sessions =
-- distinct (user, session id) of the activity, purchase_sessions = those among them that a purchase
-- journey ended, session_conversion = purchase_sessions / sessions.
CREATE OR REPLACE VIEW conversion_by_day AS
WITH a AS (
    SELECT CAST(event_time AS DATE) AS day, count(*) AS events,
           count(DISTINCT user_pseudonym) AS active_users,
           count(DISTINCT (user_pseudonym, session_id)) FILTER (WHERE session_id <> '') AS sessions
    FROM activity GROUP BY 1
), p AS (
    SELECT CAST(event_time AS DATE) AS day, count(DISTINCT user_pseudonym) AS purchasers,
           count(DISTINCT order_id) AS orders
    FROM transactions WHERE type = 'purchase' GROUP BY 1
), j AS (
    SELECT CAST(purchase_time AS DATE) AS day,
           count(DISTINCT (user_pseudonym, session_id)) FILTER (WHERE session_id <> '') AS purchase_sessions
    FROM purchase_journeys GROUP BY 1
)
SELECT day, coalesce(a.events, 0) AS events, coalesce(a.active_users, 0) AS active_users,
       coalesce(p.purchasers, 0) AS purchasers, coalesce(p.orders, 0) AS orders,
       CASE WHEN a.active_users > 0 THEN coalesce(p.purchasers, 0) / a.active_users END AS conversion_rate,
       coalesce(a.sessions, 0) AS sessions, coalesce(j.purchase_sessions, 0) AS purchase_sessions,
       CASE WHEN a.sessions > 0 THEN coalesce(j.purchase_sessions, 0) / a.sessions END AS session_conversion
FROM a FULL OUTER JOIN p USING (day) FULL OUTER JOIN j USING (day)
ORDER BY day;
