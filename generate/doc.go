// Package generate builds a deterministic, seeded ShopEase world and writes its history as the files
// that docs/formats.md describes, together with a ground truth (truth.json) computed from what was
// generated — never from the pipeline — so tests can check the pipeline's answers exactly.
//
// The world has users, products (categories, prices, costs), sessions that walk the funnel
// page_view → product_view → (search) → add_to_cart (→ remove_from_cart) → checkout_start → purchase,
// refunds and returns of earlier purchases, an inventory (product info, daily stock reports, restocks,
// price changes) and reviews. Dirt is injected on purpose at configurable rates; every dirty record
// carries exactly one defect so that its outcome (a replay reason, a gateway reason, or a duplicate)
// is known and counted in the truth.
//
// Days are generated in parallel (one random stream per day, so the output does not depend on the
// number of workers or GOMAXPROCS) and merged in day order by one goroutine that owns everything
// crossing days: refunds, returns and reviews of earlier purchases, duplicates written into the next
// day's file, and the stock levels.
//
// Simulator produces the same kind of activity and purchases live, at a given rate, stamped with the
// current time of an injectable clock.
package generate
