import { dec, type Decimal } from "../../../domain/decimal.js"
import { seededRandom } from "./random.js"
import type { Simulator } from "./server.js"

/**
 * Other market participants acting on the exchange directly (no sockets, no auth): makers post
 * and cancel post-only orders near the touch, takers cross with IOC orders. Cheap enough to make
 * 100k book updates in a second or two, for tests and benches that need a busy, real book.
 */
export interface ParticipantSpec {
  readonly tick: string
  readonly lot: string
}

export const participants = <P extends string>(sim: Simulator, products: ReadonlyArray<P>, specs: Readonly<Record<P, ParticipantSpec>>, seed: number) => {
  const random = seededRandom(seed).next
  const exchange = sim.admin.exchange
  const resting = new Map<P, string[]>(products.map((p) => [p, []]))
  const op = (product: P, mid: Decimal): void => {
    const spec = specs[product]
    const mine = resting.get(product) as string[]
    const r = random()
    if (r < 0.05) {
      const side = random() < 0.5 ? "buy" : "sell"
      const reach = dec(spec.tick).times(1 + Math.floor(random() * 4))
      sim.admin.placeAs({ account: "taker", symbol: product, orderType: "ioc", side, size: dec(spec.lot).times(1 + Math.floor(random() * 10)).toFixed(), limitPrice: (side === "buy" ? mid.plus(reach) : mid.minus(reach)).toFixed() })
      return
    }
    if (mine.length > 80 || (mine.length > 30 && r < 0.45)) {
      const i = Math.floor(random() * mine.length)
      const orderId = mine[i] as string
      mine[i] = mine[mine.length - 1] as string
      mine.pop()
      exchange.cancel({ account: "maker", orderId })
      return
    }
    const side = random() < 0.5 ? "buy" : "sell"
    const away = dec(spec.tick).times(1 + Math.floor(-Math.log(1 - random()) * 5))
    const out = sim.admin.placeAs({ account: "maker", symbol: product, orderType: "post", side, size: dec(spec.lot).times(1 + Math.floor(random() * 20)).toFixed(), limitPrice: (side === "buy" ? mid.minus(away) : mid.plus(away)).toFixed() })
    const order = out.order as { orderId?: string; status?: string } | null
    if (out.status === "placed" && order?.orderId !== undefined) mine.push(order.orderId)
  }
  /** Runs `ops` operations spread over the products, quoting around each current touch. */
  return (ops: number): void => {
    for (const product of products) {
      const depth = exchange.engine.depth(product)
      const bid = depth.bids[0]?.[0]
      const ask = depth.asks[0]?.[0]
      const half = dec(specs[product].tick)
      // Quote around the current touch so post-only orders rest (the synthetic mid walks too).
      const mid = bid !== undefined && ask !== undefined ? bid.plus(ask).div(2).div(half).floor().times(half) : (bid ?? ask ?? exchange.engine.instrument(product)?.initialMid ?? dec("100"))
      for (let i = 0; i < ops / products.length; i++) op(product, mid)
    }
  }
}
