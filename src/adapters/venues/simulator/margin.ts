import { Decimal, ZERO } from "../../../domain/decimal.js"
import type { OrderView, PositionView } from "./engine-types.js"
import { inverseValue } from "../../../domain/position.js"
import { isInverseSim, type SimInstrument } from "./instruments.js"

/**
 * The simulator's margin model (a model, not Kraken's exact risk engine; see docs/architecture.md,
 * "Simulator fidelity"): one USD collateral balance per account (flex, haircut 0). A position's
 * notional is |size| × contractSize × mark; initial margin is notional × the instrument's
 * initial-margin rate, maintenance the same with the maintenance rate. Open orders that are not
 * reduce-only add initial margin on their unfilled size at their limit price (mark for market
 * and untriggered orders). Equity = collateral + unrealized PnL at mark; available margin =
 * equity − initial margin (positions and orders). Below maintenance the account is liquidated.
 */
export const DEFAULT_INITIAL_MARGIN = new Decimal("0.02")
export const DEFAULT_MAINTENANCE_MARGIN = new Decimal("0.01")

export const initialRate = (i: SimInstrument): Decimal => i.initialMargin ?? DEFAULT_INITIAL_MARGIN
export const maintenanceRate = (i: SimInstrument): Decimal => i.maintenanceMargin ?? DEFAULT_MAINTENANCE_MARGIN

export interface MarginState {
  readonly collateral: Decimal
  readonly unrealizedPnl: Decimal
  readonly initialMargin: Decimal
  readonly initialMarginWithOrders: Decimal
  readonly maintenanceMargin: Decimal
  readonly equity: Decimal
  readonly available: Decimal
}

export interface MarginInputs {
  readonly collateral: Decimal
  readonly positions: ReadonlyArray<PositionView>
  readonly orders: ReadonlyArray<OrderView>
  readonly instrument: (symbol: string) => SimInstrument | undefined
  readonly mark: (symbol: string) => Decimal | undefined
}

/**
 * Unrealized PnL of a position at `mark`, in USD: linear (mark − entry) × size × contractSize;
 * inverse size × contractSize × (1/entry − 1/mark) in the base currency, valued at the mark.
 */
export const unrealized = (p: PositionView, i: SimInstrument, mark: Decimal): Decimal => {
  if (p.balance.isZero()) return ZERO
  if (!isInverseSim(i)) return mark.minus(p.entryPrice).times(p.balance).times(i.contractSize)
  return inverseValue(p.balance, i.contractSize, p.entryPrice).minus(inverseValue(p.balance, i.contractSize, mark)).times(mark)
}

/** Notional in USD: size × contractSize × price, or size × contractSize for inverse contracts (contract value in USD). */
export const notionalUsd = (size: Decimal, price: Decimal, i: SimInstrument): Decimal =>
  isInverseSim(i) ? size.abs().times(i.contractSize) : size.abs().times(i.contractSize).times(price)

export const orderMargin = (size: Decimal, price: Decimal, i: SimInstrument): Decimal => notionalUsd(size, price, i).times(initialRate(i))

export const marginState = (x: MarginInputs): MarginState => {
  let pnl = ZERO
  let im = ZERO
  let mm = ZERO
  for (const p of x.positions) {
    const i = x.instrument(p.symbol)
    const mark = x.mark(p.symbol)
    if (i === undefined || mark === undefined || p.balance.isZero()) continue
    const notional = notionalUsd(p.balance, mark, i)
    pnl = pnl.plus(unrealized(p, i, mark))
    im = im.plus(notional.times(initialRate(i)))
    mm = mm.plus(notional.times(maintenanceRate(i)))
  }
  let withOrders = im
  for (const o of x.orders) {
    const i = x.instrument(o.symbol)
    if (i === undefined || o.reduceOnly) continue
    const price = o.limitPrice ?? x.mark(o.symbol)
    if (price === undefined) continue
    withOrders = withOrders.plus(orderMargin(o.size.minus(o.filled), price, i))
  }
  const equity = x.collateral.plus(pnl)
  return { collateral: x.collateral, unrealizedPnl: pnl, initialMargin: im, initialMarginWithOrders: withOrders, maintenanceMargin: mm, equity, available: equity.minus(withOrders) }
}
