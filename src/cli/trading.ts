import { parseCommand, printJson, type Io } from "./args.js"
import { call, resolveTarget } from "./daemon-client.js"
import { atPrecision, renderTable } from "./table.js"

export const ORDERS_USAGE = "usage: troupe orders [--open] [--port N] [--json]"
export const POSITIONS_USAGE = "usage: troupe positions [--port N] [--json]"

/** `troupe orders [--open]`: the orders the daemon knows, newest first. */
export const runOrders = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values } = parseCommand("orders", argv, { open: { type: "boolean", default: false } }, ORDERS_USAGE)
  const orders = await call(resolveTarget(values.port), "orders", (c) => c.orders.list({ urlParams: values.open === true ? { open: "1" } : {} }))
  if (values.json) {
    printJson(io, orders)
    return 0
  }
  if (orders.length === 0) {
    io.out(values.open === true ? "no open orders\n" : "no orders\n")
    return 0
  }
  const rows = [...orders]
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .map((o) => [o.clientOrderId, o.instrument, o.side, o.type, o.price ?? "-", o.qty, o.filledQty, o.state, o.strategy ?? "-", o.account])
  io.out(renderTable(["CLIENT ORDER ID", "INSTRUMENT", "SIDE", "TYPE", "PRICE", "QTY", "FILLED", "STATE", "STRATEGY", "ACCOUNT"], rows))
  return 0
}

/** `troupe positions`: net position, entry, mark and PnL per account and instrument. */
export const runPositions = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values } = parseCommand("positions", argv, {}, POSITIONS_USAGE)
  const positions = await call(resolveTarget(values.port), "positions", (c) => c.node.positions())
  if (values.json) {
    printJson(io, positions)
    return 0
  }
  if (positions.length === 0) {
    io.out("no positions\n")
    return 0
  }
  const rows = positions.map((p) => {
    // People read the instrument's precision; money at the precision of a price times a quantity (2..8 places). --json stays exact.
    const price = (v: string | null): string => (v === null ? "-" : atPrecision(v, p.priceDecimals === undefined ? undefined : p.priceDecimals + 1))
    const money = (v: string): string => atPrecision(v, p.priceDecimals === undefined || p.qtyDecimals === undefined ? undefined : Math.min(8, Math.max(2, p.priceDecimals + p.qtyDecimals)))
    // Realized before and after fees, named as `troupe report` names them.
    return [p.account, p.instrument, atPrecision(p.qty, p.qtyDecimals), price(p.avgEntry), price(p.markPrice), money(p.unrealizedPnl), money(p.realizedGross), money(p.fees), money(p.realizedPnl)]
  })
  io.out(renderTable(["ACCOUNT", "INSTRUMENT", "QTY", "AVG ENTRY", "MARK", "UNREALIZED", "REALIZED GROSS", "FEES", "REALIZED NET"], rows))
  return 0
}
