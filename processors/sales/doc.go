// Package sales keeps the live sales and revenue tables behind the reports: per product per UTC
// month units and revenue, and per order per month the money from which monthly revenue and
// distinct orders are summed.
//
// Two processors, each with one table:
//
//	sales    shopease.sales (product id) → table shopease-sales (product id → ProductSales: per
//	         UTC month of event time units sold / refunded / returned, line counts, gross,
//	         refunds, returns; the newest event time) and every line forwarded to
//	         shopease.sales.orders (key "2006-01|order id")
//	revenue  shopease.sales.orders → table shopease-revenue ("2006-01|order id" → OrderMonth: the
//	         same sums for one order in one month)
//
// Monthly revenue is the sum over the revenue keys with the month's prefix; the month's orders are
// the keys among them with at least one purchase line (OrderMonth.Counted). Keying by order and
// month is what makes the distinct count exact: the lines of one order are spread over product
// partitions, but all of an order's lines in a month meet at one key, and a key exists once however
// often its lines arrive. Keying by month alone would also work but would put a month's every
// order id into one value, rewritten on every line.
//
// Definitions (DESIGN.md): line amount = quantity × unit price, negative for refunds and returns;
// Net = Gross + Refunds + Returns; months are UTC months of the line's event time. Money is exact
// (event.Money thousandths); no float is ever summed.
//
// Exactness under at-least-once delivery (package fence): the sales table fences each product by
// the lines' raw origins. The sales processor forwards every line it reads, applied or fenced,
// because a crash can leave the table written and the forward lost; the revenue table fences each
// order-month key by the raw origin seen through the sales partition that forwarded it (see via),
// which is the unit in which origins arrive in order.
package sales
