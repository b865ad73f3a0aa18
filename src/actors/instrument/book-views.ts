import type { BookDepth, BookLevel, OrderBook } from "../../domain/book.js"
import { scaledToDecimal } from "../../domain/fixed-point.js"
import type { InstrumentId } from "../../domain/ids.js"

/**
 * Book views for the actors that follow an instrument (strategies), published with coalescing:
 * each subscriber has a dirty flag and at most one delivery scheduled or in flight. A publish
 * only marks subscribers dirty; the view is built when it is delivered, from the book as it is
 * then. A subscriber whose callback returns a promise gets nothing more until it settles, and
 * then only the latest view — a slow subscriber never builds a backlog, it skips versions.
 *
 * A view keeps the book's integer units and makes its Decimals only when a subscriber reads a
 * level (then once per view): most views are superseded before anyone looks at a price.
 */
export interface BookView {
  readonly instrumentId: InstrumentId
  /** The book's sequence number: the last delta (or snapshot) the view includes. */
  readonly seq: number
  readonly status: "live" | "stale"
  /** Clock time when the view was built. */
  readonly ts: number
  readonly bestBid: BookLevel | undefined
  readonly bestAsk: BookLevel | undefined
  /** The top `depth` levels per side when the subscriber asked for depth, else undefined. */
  readonly depth: BookDepth | undefined
  /**
   * The best bid and ask prices in the book's scaled units (no Decimal built): cheap to compare,
   * for subscribers that only care whether the top of the book moved.
   */
  readonly topUnits: readonly [bid: number, ask: number]
}

export type BookViewSubscriber = (view: BookView) => void | PromiseLike<void>

export interface BookViewSource {
  /** The book to show, or undefined while there is none to trust (syncing). */
  readonly book: () => OrderBook | undefined
  readonly status: () => "live" | "stale"
  readonly now: () => number
}

const level = (priceUnits: number, qtyUnits: number, priceDecimals: number, qtyDecimals: number): BookLevel | undefined =>
  Number.isNaN(priceUnits) ? undefined : { price: scaledToDecimal(priceUnits, priceDecimals), qty: scaledToDecimal(qtyUnits, qtyDecimals) }

const NOT_YET = null

/**
 * One immutable view: the top of book (and the top `depth` levels) copied as integer units when
 * it is built, turned into Decimals on first read. `toJSON` gives the plain object.
 */
class LazyBookView implements BookView {
  readonly #priceDecimals: number
  readonly #qtyDecimals: number
  readonly #bidPrice: number
  readonly #bidQty: number
  readonly #askPrice: number
  readonly #askQty: number
  /** Depth levels as units (price, qty, ...): bids first, then asks; undefined without depth. */
  readonly #levels: number[] | undefined
  readonly #bidCount: number
  readonly #askCount: number
  #bestBid: BookLevel | undefined | typeof NOT_YET = NOT_YET
  #bestAsk: BookLevel | undefined | typeof NOT_YET = NOT_YET
  #depth: BookDepth | undefined | typeof NOT_YET = NOT_YET

  constructor(
    readonly instrumentId: InstrumentId,
    readonly seq: number,
    readonly status: "live" | "stale",
    readonly ts: number,
    book: OrderBook,
    depth: number
  ) {
    this.#priceDecimals = book.priceDecimals
    this.#qtyDecimals = book.qtyDecimals
    this.#bidPrice = book.bestBidUnits()
    this.#bidQty = book.bestBidQtyUnits()
    this.#askPrice = book.bestAskUnits()
    this.#askQty = book.bestAskQtyUnits()
    if (depth > 0) {
      const levels: number[] = []
      this.#bidCount = book.copyTopUnits("bid", depth, levels, 0)
      this.#askCount = book.copyTopUnits("ask", depth, levels, 2 * this.#bidCount)
      this.#levels = levels
    } else {
      this.#bidCount = 0
      this.#askCount = 0
      this.#levels = undefined
    }
  }

  get topUnits(): readonly [number, number] {
    return [this.#bidPrice, this.#askPrice]
  }

  get bestBid(): BookLevel | undefined {
    if (this.#bestBid === NOT_YET) this.#bestBid = level(this.#bidPrice, this.#bidQty, this.#priceDecimals, this.#qtyDecimals)
    return this.#bestBid
  }

  get bestAsk(): BookLevel | undefined {
    if (this.#bestAsk === NOT_YET) this.#bestAsk = level(this.#askPrice, this.#askQty, this.#priceDecimals, this.#qtyDecimals)
    return this.#bestAsk
  }

  get depth(): BookDepth | undefined {
    if (this.#depth === NOT_YET) {
      const units = this.#levels
      if (units === undefined) this.#depth = undefined
      else {
        const side = (from: number, count: number): BookLevel[] => {
          const out: BookLevel[] = []
          for (let k = 0; k < count; k++) out.push(level(units[from + 2 * k] as number, units[from + 2 * k + 1] as number, this.#priceDecimals, this.#qtyDecimals) as BookLevel)
          return out
        }
        this.#depth = { bids: side(0, this.#bidCount), asks: side(2 * this.#bidCount, this.#askCount) }
      }
    }
    return this.#depth
  }

  toJSON(): BookView {
    return { instrumentId: this.instrumentId, seq: this.seq, status: this.status, ts: this.ts, bestBid: this.bestBid, bestAsk: this.bestAsk, depth: this.depth, topUnits: this.topUnits }
  }
}

class Subscription {
  dirty = false
  scheduled = false
  busy = false
  closed = false
  /** The scheduled delivery, made once: marking a subscriber allocates nothing. */
  readonly run: () => void
  constructor(
    readonly fn: BookViewSubscriber,
    readonly depth: number,
    deliver: (s: Subscription) => void
  ) {
    this.run = () => deliver(this)
  }
}

export class BookViewPublisher {
  /** Replaced (not mutated) on subscribe/unsubscribe, so publish iterates a plain array. */
  private subs: ReadonlyArray<Subscription> = []
  private version = 0
  private cacheVersion = -1
  /** The top-of-book view of `cacheVersion`, if built. */
  private top: BookView | undefined
  private readonly deep = new Map<number, BookView>()
  private readonly deliverFn = (s: Subscription): void => this.deliver(s)
  /** Views handed to subscribers. */
  delivered = 0
  /** Subscriber callbacks that threw or rejected; the subscription stays. */
  subscriberErrors = 0

  constructor(
    readonly instrumentId: InstrumentId,
    private readonly source: BookViewSource
  ) {}

  get subscribers(): number {
    return this.subs.length
  }

  /** `depth` 0: top of book only. Delivers the current view soon if there is one. */
  subscribe(fn: BookViewSubscriber, options: { readonly depth?: number } = {}): () => void {
    const s = new Subscription(fn, Math.max(0, Math.floor(options.depth ?? 0)), this.deliverFn)
    this.subs = [...this.subs, s]
    this.mark(s)
    return () => {
      if (s.closed) return
      s.closed = true
      this.subs = this.subs.filter((x) => x !== s)
    }
  }

  /** The book changed: every subscriber will get the view as it is when delivered. */
  publish(): void {
    this.version++
    const subs = this.subs
    for (let i = 0; i < subs.length; i++) this.mark(subs[i] as Subscription)
  }

  /** The view at `depth` now (shared by every subscriber delivered in this version). */
  view(depth: number): BookView | undefined {
    const book = this.source.book()
    if (book === undefined || book.sequence < 0) return undefined
    if (this.cacheVersion !== this.version) {
      this.top = undefined
      if (this.deep.size > 0) this.deep.clear()
      this.cacheVersion = this.version
    }
    if (depth <= 0) return (this.top ??= new LazyBookView(this.instrumentId, book.sequence, this.source.status(), this.source.now(), book, 0))
    let v = this.deep.get(depth)
    if (v === undefined) {
      v = new LazyBookView(this.instrumentId, book.sequence, this.source.status(), this.source.now(), book, depth)
      this.deep.set(depth, v)
    }
    return v
  }

  private mark(s: Subscription): void {
    s.dirty = true
    if (s.scheduled || s.busy) return
    s.scheduled = true
    queueMicrotask(s.run)
  }

  private deliver(s: Subscription): void {
    s.scheduled = false
    if (s.closed || !s.dirty) return
    const v = this.view(s.depth)
    if (v === undefined) return
    s.dirty = false
    this.delivered++
    let r: void | PromiseLike<void>
    try {
      r = s.fn(v)
    } catch {
      this.subscriberErrors++
      return
    }
    if (r !== undefined && typeof r.then === "function") {
      s.busy = true
      r.then(
        () => this.settle(s),
        () => {
          this.subscriberErrors++
          this.settle(s)
        }
      )
    }
  }

  private settle(s: Subscription): void {
    s.busy = false
    if (s.dirty && !s.closed) this.mark(s)
  }
}
