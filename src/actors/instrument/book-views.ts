import type { BookDepth, BookLevel, OrderBook } from "../../domain/book.js"
import type { InstrumentId } from "../../domain/ids.js"

/**
 * Book views for the actors that follow an instrument (strategies), published with coalescing:
 * each subscriber has a dirty flag and at most one delivery scheduled or in flight. A publish
 * only marks subscribers dirty; the view is built when it is delivered, from the book as it is
 * then. A subscriber whose callback returns a promise gets nothing more until it settles, and
 * then only the latest view — a slow subscriber never builds a backlog, it skips versions.
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
}

export type BookViewSubscriber = (view: BookView) => void | PromiseLike<void>

export interface BookViewSource {
  /** The book to show, or undefined while there is none to trust (syncing). */
  readonly book: () => OrderBook | undefined
  readonly status: () => "live" | "stale"
  readonly now: () => number
}

class Subscription {
  dirty = false
  scheduled = false
  busy = false
  closed = false
  constructor(
    readonly fn: BookViewSubscriber,
    readonly depth: number
  ) {}
}

export class BookViewPublisher {
  private readonly subs = new Set<Subscription>()
  private version = 0
  private cacheVersion = -1
  private readonly cache = new Map<number, BookView>()
  /** Views handed to subscribers. */
  delivered = 0
  /** Subscriber callbacks that threw or rejected; the subscription stays. */
  subscriberErrors = 0

  constructor(
    readonly instrumentId: InstrumentId,
    private readonly source: BookViewSource
  ) {}

  get subscribers(): number {
    return this.subs.size
  }

  /** `depth` 0: top of book only. Delivers the current view soon if there is one. */
  subscribe(fn: BookViewSubscriber, options: { readonly depth?: number } = {}): () => void {
    const s = new Subscription(fn, Math.max(0, Math.floor(options.depth ?? 0)))
    this.subs.add(s)
    this.mark(s)
    return () => {
      s.closed = true
      this.subs.delete(s)
    }
  }

  /** The book changed: every subscriber will get the view as it is when delivered. */
  publish(): void {
    this.version++
    for (const s of this.subs) this.mark(s)
  }

  /** The view at `depth` now (shared by every subscriber delivered in this version). */
  view(depth: number): BookView | undefined {
    const book = this.source.book()
    if (book === undefined || book.sequence < 0) return undefined
    if (this.cacheVersion !== this.version) {
      this.cache.clear()
      this.cacheVersion = this.version
    }
    let v = this.cache.get(depth)
    if (v === undefined) {
      v = {
        instrumentId: this.instrumentId,
        seq: book.sequence,
        status: this.source.status(),
        ts: this.source.now(),
        bestBid: book.bestBid(),
        bestAsk: book.bestAsk(),
        depth: depth > 0 ? book.depth(depth) : undefined
      }
      this.cache.set(depth, v)
    }
    return v
  }

  private mark(s: Subscription): void {
    s.dirty = true
    if (s.scheduled || s.busy) return
    s.scheduled = true
    queueMicrotask(() => this.deliver(s))
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
