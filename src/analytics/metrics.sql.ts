/**
 * The set-based part of the report, in DuckDB SQL. Each statement materializes one table
 * (`report_*` for what the report shows, so Parquet export is a COPY of each). The statements
 * fall in two lanes that `metrics.ts` runs side by side on two connections: the PnL lane runs
 * after the position pass (`positions.ts`), whose `position_days_raw` and `round_trips_raw` it
 * joins; the execution lane needs no positions. `fill_flows` (FILL_FLOWS_SQL), the one scan of
 * the fills that both lanes aggregate, starts the execution lane; the PnL lane waits for it.
 *
 * Scopes: every table with a `scope` column carries the same four groupings — `total`,
 * `strategy`, `instrument` (across strategies) and `strategy_instrument` — made with
 * GROUPING SETS, and a `scopeId` ("scope|strategy|instrument|currency") to join them on.
 * Currencies: every money figure is in the settlement currency of its instruments (`instruments`
 * table: the base for inverse contracts, e.g. XBT for PI_XBTUSD, else the quote) and the report
 * never adds two currencies: `currency` is in every grouping set, so `total` and `strategy` are
 * one row per currency (an instrument has one). Inverse money (cost basis, turnover, unrealized,
 * slippage) is qty × contractSize / price rounded half-even at 10^-18 (`inv_value`), as the
 * domain's `inverseValue`.
 * Days are UTC calendar days (`day` = epoch ms // 86 400 000).
 */

const SCOPE = (s = "strategy", i = "instrument"): string => `
  CASE WHEN grouping(${s}) = 0 AND grouping(${i}) = 0 THEN 'strategy_instrument'
       WHEN grouping(${s}) = 0 THEN 'strategy' WHEN grouping(${i}) = 0 THEN 'instrument' ELSE 'total' END`
const SCOPE_ID = (s = "strategy", i = "instrument"): string =>
  `(${SCOPE(s, i)}) || '|' || coalesce(${s}, '') || '|' || coalesce(${i}, '') || '|' || currency`
/** The four scopes, each per currency (`extra` adds more keys, e.g. the day). */
const GROUPINGS = (extra = ""): string => {
  const keys = extra ? `currency, ${extra}` : "currency"
  return `GROUPING SETS ((${keys}), (strategy, ${keys}), (instrument, ${keys}), (strategy, instrument, ${keys}))`
}

/**
 * Exact money of inverse contracts: `div_half_even` is integer division rounded half to even;
 * `inv_value(q, cs, p)` is q × cs / p in the base currency, rounded half-even at 10^-18 (q, cs,
 * p are DECIMAL(·,9); the integers stay within HUGEINT for |q| × cs < 10^11). DuckDB divides
 * DECIMALs in DOUBLE, hence the integers.
 */
export const MACROS_SQL = `
CREATE OR REPLACE MACRO div_half_even(n, d) AS
  n // d + CASE WHEN 2 * abs(n % d) > d OR (2 * abs(n % d) = d AND (n // d) % 2 <> 0) THEN sign(n) ELSE 0 END;
CREATE OR REPLACE MACRO inv_value(q, cs, p) AS
  div_half_even((q::DECIMAL(38,9) * 1000000000)::HUGEINT * (cs::DECIMAL(38,9) * 1000000000)::HUGEINT * 1000000000,
                (p::DECIMAL(38,9) * 1000000000)::HUGEINT)::DECIMAL(38,0)
    * 0.000000000000000001::DECIMAL(38,18);
CREATE OR REPLACE MACRO fill_value(inverse, q, cs, p) AS
  CASE WHEN inverse THEN inv_value(q, cs, p) ELSE (q * p)::DECIMAL(38,18) END;`

/**
 * A count rolled up from partial counts. 0, not NULL, over no rows: the grand-total grouping set
 * yields a row even over empty input, where count(*) says 0 and sum() NULL.
 */
const COUNT = (partial: string): string => `coalesce(sum(${partial}), 0)::INTEGER`

/** since_ms, since_day, strategy (NULL = all), capital (NULL = no returns), periods per year. */
export const PARAMS_SQL = `
CREATE OR REPLACE TABLE report_params AS
SELECT $since::BIGINT AS since_ms, ($since::BIGINT // 86400000)::INTEGER AS since_day,
       $strategy::VARCHAR AS strategy_filter, $capital::DECIMAL(38,18) AS capital, $periods::DOUBLE AS periods`

/**
 * The fills aggregated once per (strategy, instrument, day, at or after --since): counts, fees,
 * notional and the TCA sums, all exact DECIMAL sums (or counts) that roll up into any scope
 * without another pass over the fills (turnover: Σ price × qty, for inverse Σ qty × contractSize / price,
 * in the settlement currency). slippage_* cover only fills with an arrival mid > 0;
 * slippage_rel_sum is Σ sign·(price − mid) / mid as DOUBLE (for the per-fill mean in bps).
 */
export const FILL_FLOWS_SQL = `
CREATE OR REPLACE TABLE fill_flows AS
SELECT strategy, instrument, i.currency, (ts // 86400000)::INTEGER AS day, ts >= p.since_ms AS in_window,
       count(*)::INTEGER AS fills, count(*) FILTER (WHERE liquidity = 'maker')::INTEGER AS maker_fills,
       sum(fee) AS fees, sum(fill_value(i.inverse, qty, i.contract_size, price)) AS turnover,
       count(*) FILTER (WHERE arrival_mid > 0)::INTEGER AS tca_fills,
       sum(CASE WHEN i.inverse THEN CASE WHEN side = 'buy' THEN inv_value(qty, i.contract_size, arrival_mid) - inv_value(qty, i.contract_size, price)
                                         ELSE inv_value(qty, i.contract_size, price) - inv_value(qty, i.contract_size, arrival_mid) END
                ELSE CASE WHEN side = 'buy' THEN price - arrival_mid ELSE arrival_mid - price END * qty END) FILTER (WHERE arrival_mid > 0) AS slippage_cost,
       sum(fill_value(i.inverse, qty, i.contract_size, arrival_mid)) FILTER (WHERE arrival_mid > 0) AS slippage_base,
       sum(CASE WHEN side = 'buy' THEN price - arrival_mid ELSE arrival_mid - price END::DOUBLE / arrival_mid::DOUBLE)
         FILTER (WHERE arrival_mid > 0) AS slippage_rel_sum
FROM fills JOIN instruments i USING (instrument), report_params p
GROUP BY ALL`

/**
 * Every (strategy, instrument) on every calendar day from its first fill to the last day with
 * a fill or a mark. Positions and basis carry forward over days without fills; unrealized PnL
 * is `position × mark − basis` (inverse: `basis − position × contractSize / mark`, in the base
 * currency) at the last mark at or before the end of the day (falling back
 * to the key's last fill price when the instrument has no mark yet).
 * net_pnl = realized + Δunrealized − fees + funding: the day's change in marked-to-market equity
 * (funding: payments booked on the position that day, + received, − paid).
 */
export const PNL_DAILY_SQL = `
CREATE OR REPLACE TABLE pnl_daily AS
WITH last AS (
  SELECT greatest((SELECT max(ts) FROM fills), coalesce((SELECT max(ts) FROM marks), 0), coalesce((SELECT max(ts) FROM funding), 0)) // 86400000 AS last_day),
firsts AS (SELECT key_id, min(day) AS first_day FROM position_days_raw GROUP BY key_id),
cal AS (SELECT f.key_id, unnest(range(f.first_day, l.last_day + 1))::INTEGER AS day FROM firsts f, last l),
carried AS (
  SELECT c.key_id, c.day, coalesce(r.realized, 0) AS realized,
         last_value(r.qty IGNORE NULLS) OVER w AS position,
         last_value(r.cost IGNORE NULLS) OVER w AS cost,
         last_value(r.last_price IGNORE NULLS) OVER w AS last_price
  FROM cal c LEFT JOIN position_days_raw r ON r.key_id = c.key_id AND r.day = c.day
  WINDOW w AS (PARTITION BY c.key_id ORDER BY c.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
keyed AS (
  SELECT k.strategy, k.instrument, i.currency, i.inverse, i.contract_size, c.*, (c.day::BIGINT + 1) * 86400000 - 1 AS eod_ts
  FROM carried c JOIN position_keys k USING (key_id) JOIN instruments i USING (instrument)),
marked AS (
  SELECT k.*, coalesce(m.price, k.last_price) AS mark
  FROM keyed k ASOF LEFT JOIN marks m ON m.instrument = k.instrument AND k.eod_ts >= m.ts),
flows AS (
  SELECT strategy, instrument, day, sum(fees) AS fees, sum(turnover) AS turnover, sum(fills)::INTEGER AS fills
  FROM fill_flows GROUP BY ALL),
fund AS (
  SELECT strategy, instrument, (ts // 86400000)::INTEGER AS day, sum(amount) AS funding FROM funding GROUP BY ALL),
valued AS (
  SELECT m.strategy, m.instrument, m.currency, m.day, m.realized::DECIMAL(38,18) AS realized,
         (CASE WHEN m.inverse THEN m.cost - inv_value(m.position, m.contract_size, m.mark) ELSE m.position * m.mark - m.cost END)::DECIMAL(38,18) AS unrealized,
         coalesce(f.fees, 0)::DECIMAL(38,18) AS fees, coalesce(f.turnover, 0)::DECIMAL(38,18) AS turnover,
         coalesce(f.fills, 0)::INTEGER AS fills, m.position::DECIMAL(38,9) AS position, m.mark::DECIMAL(18,9) AS mark,
         coalesce(fu.funding, 0)::DECIMAL(38,18) AS funding
  FROM marked m LEFT JOIN flows f USING (strategy, instrument, day) LEFT JOIN fund fu USING (strategy, instrument, day))
SELECT *, (realized + unrealized - coalesce(lag(unrealized) OVER (PARTITION BY strategy, instrument ORDER BY day), 0) - fees + funding)::DECIMAL(38,18) AS net_pnl
FROM valued`

/** Daily series per scope: PnL parts, equity (cumulative net PnL) and drawdown from its running peak (0 included). */
export const DAILY_SQL = `
CREATE OR REPLACE TABLE report_daily AS
WITH f AS (
  SELECT d.* FROM pnl_daily d, report_params p
  WHERE d.day >= p.since_day AND (p.strategy_filter IS NULL OR d.strategy = p.strategy_filter)),
g AS (
  SELECT ${SCOPE()} AS scope, ${SCOPE_ID()} AS "scopeId", strategy, instrument, currency, day,
         sum(realized) AS realized, sum(unrealized) AS unrealized, sum(fees) AS fees, sum(net_pnl) AS "netPnl",
         sum(turnover) AS turnover, sum(fills)::INTEGER AS fills, sum(funding) AS funding
  FROM f GROUP BY ${GROUPINGS("day")}),
e AS (SELECT *, sum("netPnl") OVER (PARTITION BY "scopeId" ORDER BY day) AS equity FROM g)
SELECT scope, "scopeId", strategy, instrument, currency, day, strftime(DATE '1970-01-01' + day, '%Y-%m-%d') AS date,
       realized::DECIMAL(38,18) AS realized, unrealized::DECIMAL(38,18) AS unrealized, fees::DECIMAL(38,18) AS fees,
       "netPnl"::DECIMAL(38,18) AS "netPnl", turnover::DECIMAL(38,18) AS turnover, fills,
       equity::DECIMAL(38,18) AS equity, funding::DECIMAL(38,18) AS funding,
       (equity - greatest(0, max(equity) OVER (PARTITION BY "scopeId" ORDER BY day)))::DECIMAL(38,18) AS drawdown,
       CASE WHEN p.capital IS NULL THEN NULL ELSE "netPnl"::DOUBLE / p.capital::DOUBLE END AS "return"
FROM e, report_params p
ORDER BY "scopeId", day`

/**
 * Closed round trips (flat → flat; a flip closes one), closed at or after --since, PnL net of
 * the fees of their fills. Wins are trips with PnL > 0, losses < 0; break-even trips count in
 * the win-rate denominator only.
 */
export const ROUND_TRIPS_SQL = `
CREATE OR REPLACE TABLE report_round_trips AS
SELECT k.strategy, k.instrument, i.currency, r.open_ts AS "openTs", r.close_ts AS "closeTs", r.pnl, r.fills
FROM round_trips_raw r JOIN position_keys k USING (key_id) JOIN instruments i USING (instrument), report_params p
WHERE r.close_ts >= p.since_ms AND (p.strategy_filter IS NULL OR k.strategy = p.strategy_filter)
ORDER BY r.close_ts, k.strategy, k.instrument`

/**
 * Performance per scope over its daily net PnL. Annualized with sqrt(periods) (365: crypto
 * trades every day), risk-free rate 0. Sharpe, Sortino and Calmar are computed on daily PnL,
 * which equals computing them on returns over any constant capital (both are scale-free).
 * Sortino's downside deviation is sqrt(mean(min(pnl, 0)²)) over all days. Calmar is annualized
 * mean PnL over max drawdown. VaR 95 / ES 95 are historical on daily net PnL: with the n days
 * sorted ascending and k = ceil(0.05 n), VaR is minus the k-th worst day, ES minus the mean
 * of the k worst days (reported as positive losses).
 */
export const SUMMARY_SQL = `
CREATE OR REPLACE TABLE report_summary AS
WITH s AS (
  SELECT "scopeId", any_value(scope) AS scope, any_value(strategy) AS strategy, any_value(instrument) AS instrument,
         any_value(currency) AS currency, count(*)::INTEGER AS days, min(date) AS "firstDay", max(date) AS "lastDay",
         sum(realized)::DECIMAL(38,18) AS realized, arg_max(unrealized, day)::DECIMAL(38,18) AS unrealized,
         sum(fees)::DECIMAL(38,18) AS fees, sum("netPnl")::DECIMAL(38,18) AS "netPnl",
         sum(turnover)::DECIMAL(38,18) AS turnover, sum(fills)::INTEGER AS fills, sum(funding)::DECIMAL(38,18) AS funding,
         (-min(drawdown))::DECIMAL(38,18) AS "maxDrawdown",
         avg("netPnl"::DOUBLE) AS mean, stddev_samp("netPnl"::DOUBLE) AS sd,
         sqrt(avg(least("netPnl"::DOUBLE, 0) ^ 2)) AS downside
  FROM report_daily GROUP BY "scopeId"),
tail AS (
  SELECT "scopeId", "netPnl", row_number() OVER (PARTITION BY "scopeId" ORDER BY "netPnl") AS rn,
         count(*) OVER (PARTITION BY "scopeId") AS n
  FROM report_daily),
v AS (
  SELECT "scopeId", -max("netPnl")::DOUBLE AS var95, -avg("netPnl"::DOUBLE) AS es95
  FROM tail WHERE rn <= ceil(0.05 * n) GROUP BY "scopeId"),
t AS (
  SELECT ${SCOPE_ID()} AS "scopeId", count(*)::INTEGER AS trips,
         count(*) FILTER (WHERE pnl > 0)::INTEGER AS wins, count(*) FILTER (WHERE pnl < 0)::INTEGER AS losses,
         coalesce(sum(pnl) FILTER (WHERE pnl > 0), 0)::DECIMAL(38,18) AS "grossProfit",
         coalesce(-sum(pnl) FILTER (WHERE pnl < 0), 0)::DECIMAL(38,18) AS "grossLoss",
         avg(pnl::DOUBLE) FILTER (WHERE pnl > 0) AS "avgWin", avg(pnl::DOUBLE) FILTER (WHERE pnl < 0) AS "avgLoss"
  FROM report_round_trips GROUP BY ${GROUPINGS()})
SELECT s.scope, s."scopeId", s.strategy, s.instrument, s.currency, s.days, s."firstDay", s."lastDay",
       s.realized, s.unrealized, s.fees, s.funding, s."netPnl", s.turnover, s.fills, s."maxDrawdown",
       CASE WHEN s.sd > 0 THEN s.mean / s.sd * sqrt(p.periods) END AS sharpe,
       CASE WHEN s.downside > 0 THEN s.mean / s.downside * sqrt(p.periods) END AS sortino,
       CASE WHEN s."maxDrawdown" > 0 THEN s.mean * p.periods / s."maxDrawdown"::DOUBLE END AS calmar,
       v.var95 AS "var95", v.es95 AS "es95",
       coalesce(t.trips, 0) AS trips, coalesce(t.wins, 0) AS wins, coalesce(t.losses, 0) AS losses,
       CASE WHEN t.trips > 0 THEN t.wins / t.trips END AS "winRate",
       CASE WHEN t."grossLoss" > 0 THEN t."grossProfit"::DOUBLE / t."grossLoss"::DOUBLE END AS "profitFactor",
       t."avgWin", t."avgLoss"
FROM s LEFT JOIN v USING ("scopeId") LEFT JOIN t USING ("scopeId"), report_params p
ORDER BY s."scopeId"`

/**
 * Execution quality per scope, orders submitted and fills made at or after --since.
 * orderToTrade = orders / fills; fillRatio = orders with at least one fill / orders;
 * cancelRatio = orders whose final state is canceled / orders. Risk decisions are per strategy
 * (they carry no instrument), so instrument scopes have none.
 */
export const EXECUTION_SQL = `
CREATE OR REPLACE TABLE report_execution AS
WITH p AS (SELECT * FROM report_params),
-- orders counted once per (strategy, instrument), then rolled up into the scopes
o1 AS (
  SELECT strategy, instrument, i.currency, count(*) AS orders,
         count(*) FILTER (WHERE client_order_id IN (SELECT client_order_id FROM fills)) AS filled,
         count(*) FILTER (WHERE final_state = 'canceled') AS canceled,
         count(*) FILTER (WHERE final_state = 'rejected') AS rejected
  FROM orders JOIN instruments i USING (instrument), p
  WHERE submitted_ts >= p.since_ms AND (p.strategy_filter IS NULL OR strategy = p.strategy_filter)
  GROUP BY strategy, instrument, i.currency),
o AS (
  SELECT ${SCOPE_ID()} AS "scopeId", ${SCOPE()} AS scope, strategy, instrument, currency, ${COUNT("orders")} AS orders,
         ${COUNT("filled")} AS "filledOrders", ${COUNT("canceled")} AS canceled, ${COUNT("rejected")} AS rejected
  FROM o1 GROUP BY ${GROUPINGS()}),
f AS (
  SELECT ${SCOPE_ID()} AS "scopeId", ${SCOPE()} AS scope, strategy, instrument, currency, ${COUNT("fills")} AS fills,
         ${COUNT("maker_fills")} AS "makerFills",
         sum(turnover)::DECIMAL(38,18) AS turnover, sum(fees)::DECIMAL(38,18) AS fees
  FROM fill_flows, p WHERE in_window AND (p.strategy_filter IS NULL OR strategy = p.strategy_filter)
  GROUP BY ${GROUPINGS()}),
r AS (
  SELECT CASE WHEN grouping(strategy) = 0 THEN 'strategy' ELSE 'total' END AS scope, strategy,
         count(*) FILTER (WHERE approved)::INTEGER AS approved, count(*) FILTER (WHERE NOT approved)::INTEGER AS denied
  FROM risk_decisions, p WHERE ts >= p.since_ms AND (p.strategy_filter IS NULL OR strategy = p.strategy_filter)
  GROUP BY GROUPING SETS ((), (strategy))),
x AS (
  SELECT coalesce(o."scopeId", f."scopeId") AS "scopeId", coalesce(o.scope, f.scope) AS scope,
         coalesce(o.strategy, f.strategy) AS strategy, coalesce(o.instrument, f.instrument) AS instrument,
         coalesce(o.currency, f.currency) AS currency,
         o.orders, o."filledOrders", o.canceled, o.rejected, f.fills, f."makerFills", f.turnover, f.fees
  FROM o FULL JOIN f USING ("scopeId"))
-- risk decisions carry no instrument: a total or strategy row of each currency shows its scope's counts
SELECT coalesce(x."scopeId", r.scope || '|' || coalesce(r.strategy, '') || '||') AS "scopeId",
       coalesce(x.scope, r.scope) AS scope, coalesce(x.strategy, r.strategy) AS strategy, x.instrument, x.currency,
       coalesce(x.orders, 0) AS orders, coalesce(x."filledOrders", 0) AS "filledOrders",
       coalesce(x.canceled, 0) AS canceled, coalesce(x.rejected, 0) AS rejected,
       coalesce(x.fills, 0) AS fills, coalesce(x."makerFills", 0) AS "makerFills",
       coalesce(x.turnover, 0)::DECIMAL(38,18) AS turnover, coalesce(x.fees, 0)::DECIMAL(38,18) AS fees,
       CASE WHEN x.fills > 0 THEN x.orders / x.fills END AS "orderToTrade",
       CASE WHEN x.orders > 0 THEN x."filledOrders" / x.orders END AS "fillRatio",
       CASE WHEN x.orders > 0 THEN x.canceled / x.orders END AS "cancelRatio",
       r.approved AS "riskApproved", r.denied AS "riskDenied"
FROM x FULL JOIN r ON x.scope = r.scope AND x.strategy IS NOT DISTINCT FROM r.strategy
ORDER BY "scopeId"`

/**
 * TCA: slippage of each fill against the arrival mid, signed so that a positive number is a
 * cost (buy above / sell below the mid). slippageBps is quantity-weighted:
 * Σ sign·(price − mid)·qty / Σ mid·qty × 10⁴; meanSlippageBps is the plain mean per fill;
 * slippageCost is the exact money Σ sign·(price − mid)·qty.
 */
export const TCA_SQL = `
CREATE OR REPLACE TABLE report_tca AS
SELECT ${SCOPE_ID()} AS "scopeId", ${SCOPE()} AS scope, strategy, instrument, currency, ${COUNT("tca_fills")} AS fills,
       sum(slippage_cost)::DECIMAL(38,18) AS "slippageCost",
       sum(slippage_cost)::DOUBLE / sum(slippage_base)::DOUBLE * 10000 AS "slippageBps",
       sum(slippage_rel_sum) / sum(tca_fills) * 10000 AS "meanSlippageBps"
FROM fill_flows, report_params p
WHERE tca_fills > 0 AND in_window AND (p.strategy_filter IS NULL OR strategy = p.strategy_filter)
GROUP BY ${GROUPINGS()}
ORDER BY "scopeId"`

/**
 * Latency samples (ms) of the orders submitted at or after --since, counted per (strategy,
 * stage, ms): both latency tables read these counts instead of ~2.5 samples per order (the
 * percentiles become a running sum over distinct values rather than a sort of every sample).
 */
export const LATENCY_COUNTS_SQL = `
CREATE OR REPLACE TABLE latency_counts AS
WITH o AS (
  SELECT strategy, submitted_ts, accepted_ts, first_fill_ts FROM orders, report_params p
  WHERE submitted_ts >= p.since_ms AND (p.strategy_filter IS NULL OR strategy = p.strategy_filter)),
lat AS (
  SELECT strategy, 'intentToAck' AS stage, accepted_ts - submitted_ts AS ms FROM o WHERE accepted_ts IS NOT NULL
  UNION ALL SELECT strategy, 'ackToFill', first_fill_ts - accepted_ts FROM o WHERE first_fill_ts IS NOT NULL AND accepted_ts IS NOT NULL
  UNION ALL SELECT strategy, 'intentToFill', first_fill_ts - submitted_ts FROM o WHERE first_fill_ts IS NOT NULL)
SELECT strategy, stage, ms, count(*) AS n FROM lat GROUP BY ALL`

/** The nearest-rank percentile q of a scope's samples, as quantile_disc: the smallest value with at least max(1, ceil(q·n)) samples at or below it. */
const NEAREST_RANK = (q: string): string => `min(ms) FILTER (WHERE cum >= greatest(1, ceil(total * ${q})))`

/** Latency per stage (intent → ack → first fill), in ms, percentiles by nearest rank (as quantile_disc). */
export const LATENCY_SQL = `
CREATE OR REPLACE TABLE report_latency AS
WITH g AS (
  SELECT CASE WHEN grouping(strategy) = 0 THEN 'strategy' ELSE 'total' END AS scope, strategy, stage, ms, sum(n)::BIGINT AS n
  FROM latency_counts GROUP BY GROUPING SETS ((stage, ms), (strategy, stage, ms))),
c AS (
  SELECT *, sum(n) OVER (PARTITION BY scope, strategy, stage ORDER BY ms ROWS UNBOUNDED PRECEDING)::BIGINT AS cum,
         sum(n) OVER (PARTITION BY scope, strategy, stage)::BIGINT AS total
  FROM g)
SELECT scope, strategy, stage, any_value(total)::INTEGER AS count,
       ${NEAREST_RANK("0.5")}::BIGINT AS p50, ${NEAREST_RANK("0.9")}::BIGINT AS p90, ${NEAREST_RANK("0.99")}::BIGINT AS p99,
       max(ms)::BIGINT AS max, sum(ms::HUGEINT * n) / sum(n) AS mean
FROM c GROUP BY scope, strategy, stage
ORDER BY scope DESC, strategy, stage`

/** Histogram of all orders' latency per stage: 20 equal bins up to the p99, a 21st for the tail. Runs after LATENCY_SQL. */
export const LATENCY_HISTOGRAM_SQL = `
CREATE OR REPLACE TABLE report_latency_histogram AS
-- the all-orders p99 per stage is report_latency's total row (same samples): no second quantile pass
WITH w AS (SELECT stage, greatest(1, ceil(p99 / 20))::BIGINT AS width FROM report_latency WHERE scope = 'total'),
b AS (SELECT c.stage, w.width, least(greatest(c.ms, 0) // w.width, 20)::INTEGER AS bin, c.n FROM latency_counts c JOIN w USING (stage))
SELECT stage, bin, (bin * any_value(width))::BIGINT AS "fromMs",
       CASE WHEN bin < 20 THEN ((bin + 1) * any_value(width))::BIGINT END AS "toMs", sum(n)::INTEGER AS count
FROM b GROUP BY stage, bin ORDER BY stage, bin`

export const RISK_DENIALS_SQL = `
CREATE OR REPLACE TABLE report_risk_denials AS
SELECT CASE WHEN grouping(strategy) = 0 THEN 'strategy' ELSE 'total' END AS scope, strategy,
       coalesce(reason, 'UNSPECIFIED') AS reason, count(*)::INTEGER AS denials
FROM risk_decisions, report_params p
WHERE NOT approved AND ts >= p.since_ms AND (p.strategy_filter IS NULL OR strategy = p.strategy_filter)
GROUP BY GROUPING SETS ((reason), (strategy, reason))
ORDER BY scope DESC, strategy, denials DESC, reason`

export const STRATEGY_RECORDS_SQL = `
CREATE OR REPLACE TABLE report_strategy_records AS
SELECT strategy, name, arg_max(value, ts) AS "lastValue", max(ts) AS "lastTs", count(*)::INTEGER AS count
FROM strategy_records, report_params p
WHERE ts >= p.since_ms AND (p.strategy_filter IS NULL OR strategy = p.strategy_filter)
GROUP BY strategy, name ORDER BY strategy, name`

/**
 * The equity curve over time, total and per strategy, for runs of any length (minutes to
 * months): the run's span [first fill, last fill or mark] cut into at most 400 buckets of at
 * least one second. Equity at a bucket's end is marked to market from the cash flows alone,
 * `Σ(sell − buy notional − fees) + position × mark` per (strategy, instrument) (inverse, in the
 * base currency: `Σ(buy − sell value − fees) − position × contractSize / mark`), per currency, which equals
 * realized + unrealized − fees under any netting convention; the mark is the last mark at or
 * before the bucket's end, else the key's last fill price (as the daily series does).
 * With --since the curve starts at 0 at the first bucket in the window (PnL since then).
 * Drawdown is equity minus its running peak (0 included).
 */
export const EQUITY_CURVE_SQL = `
CREATE OR REPLACE TABLE report_equity_curve AS
WITH p AS (SELECT * FROM report_params),
span AS (SELECT min(ts) AS t0, greatest(max(ts), coalesce((SELECT max(ts) FROM marks), 0)) AS t1 FROM fills),
b AS (SELECT t0, t1, greatest(1000, ceil((t1 - t0 + 1) / 400.0))::BIGINT AS width FROM span WHERE t0 IS NOT NULL),
flows AS (
  SELECT f.strategy, f.instrument, ((f.ts - b.t0) // b.width)::INTEGER AS bucket,
         sum(CASE WHEN (f.side = 'buy') = i.inverse THEN fill_value(i.inverse, f.qty, i.contract_size, f.price)
                  ELSE -fill_value(i.inverse, f.qty, i.contract_size, f.price) END - f.fee) AS cash,
         sum(CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END) AS dq,
         arg_max(f.price, f.ts) AS last_price
  FROM fills f JOIN instruments i USING (instrument), b, p WHERE p.strategy_filter IS NULL OR f.strategy = p.strategy_filter
  GROUP BY ALL),
firsts AS (SELECT strategy, instrument, min(bucket) AS first FROM flows GROUP BY ALL),
cal AS (
  SELECT f.strategy, f.instrument, unnest(range(f.first, ((b.t1 - b.t0) // b.width)::INTEGER + 1))::INTEGER AS bucket
  FROM firsts f, b),
carried AS (
  SELECT c.strategy, c.instrument, c.bucket,
         sum(coalesce(fl.cash, 0)) OVER w AS cash, sum(coalesce(fl.dq, 0)) OVER w AS qty,
         last_value(fl.last_price IGNORE NULLS) OVER w AS last_price
  FROM cal c LEFT JOIN flows fl USING (strategy, instrument, bucket)
  WINDOW w AS (PARTITION BY c.strategy, c.instrument ORDER BY c.bucket ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
timed AS (SELECT c.*, b.t0 + (c.bucket::BIGINT + 1) * b.width - 1 AS ts FROM carried c, b),
marked AS (
  SELECT t.*, i.currency, CASE WHEN i.inverse THEN -inv_value(t.qty, i.contract_size, coalesce(m.price, t.last_price))
                               ELSE t.qty * coalesce(m.price, t.last_price) END AS held
  FROM timed t JOIN instruments i USING (instrument) ASOF LEFT JOIN marks m ON m.instrument = t.instrument AND t.ts >= m.ts),
g AS (
  SELECT CASE WHEN grouping(strategy) = 0 THEN 'strategy' ELSE 'total' END AS scope, strategy, currency, bucket,
         any_value(ts) AS ts, sum(cash + held) AS equity
  FROM marked GROUP BY GROUPING SETS ((currency, bucket), (strategy, currency, bucket))),
e AS (SELECT *, lag(equity) OVER (PARTITION BY scope, strategy, currency ORDER BY bucket) AS prev FROM g),
w AS (SELECT e.* FROM e, p WHERE e.ts >= p.since_ms),
r AS (SELECT *, equity - coalesce(first_value(prev) OVER (PARTITION BY scope, strategy, currency ORDER BY bucket), 0) AS eq FROM w)
SELECT scope, strategy, currency, ts, eq::DECIMAL(38,18) AS equity,
       (eq - greatest(0, max(eq) OVER (PARTITION BY scope, strategy, currency ORDER BY bucket)))::DECIMAL(38,18) AS drawdown
FROM r
ORDER BY scope, strategy, currency, ts`

/**
 * The PnL lane, in dependency order: runs after the position pass on the same connection, and
 * after FILL_FLOWS_SQL (which starts the execution lane).
 */
export const PNL_STATEMENTS: ReadonlyArray<string> = [PNL_DAILY_SQL, DAILY_SQL, ROUND_TRIPS_SQL, SUMMARY_SQL]

/** The execution lane after FILL_FLOWS_SQL, in dependency order: needs no positions, so it runs beside the position pass. */
export const EXECUTION_STATEMENTS: ReadonlyArray<string> = [
  EXECUTION_SQL,
  TCA_SQL,
  LATENCY_COUNTS_SQL,
  LATENCY_SQL,
  LATENCY_HISTOGRAM_SQL,
  RISK_DENIALS_SQL,
  STRATEGY_RECORDS_SQL,
  EQUITY_CURVE_SQL
]

/** The tables a report consists of (and that Parquet export writes). */
export const REPORT_TABLES = [
  "report_summary",
  "report_daily",
  "report_round_trips",
  "report_execution",
  "report_tca",
  "report_latency",
  "report_latency_histogram",
  "report_risk_denials",
  "report_strategy_records",
  "report_equity_curve"
] as const
export type ReportTable = (typeof REPORT_TABLES)[number]

/** The report tables each lane leaves. */
export const PNL_TABLES: ReadonlyArray<ReportTable> = ["report_summary", "report_daily", "report_round_trips"]
export const EXECUTION_TABLES: ReadonlyArray<ReportTable> = [
  "report_execution",
  "report_tca",
  "report_latency",
  "report_latency_histogram",
  "report_risk_denials",
  "report_strategy_records",
  "report_equity_curve"
]
