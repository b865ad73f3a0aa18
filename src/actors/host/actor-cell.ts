import { Effect } from "effect"
import { Mailbox, type MailboxClosed, type OverflowPolicy } from "../mailbox.js"
import type { Histogram } from "../metrics.js"

/**
 * The address of a hosted actor. It outlives the actor's incarnations: while the supervisor
 * restarts the actor, messages wait in the (bounded) mailbox, and the next incarnation takes
 * them. Overflow follows the actor kind's policy (see mailbox.ts).
 */
export interface ActorRef<Msg> {
  readonly id: string
  readonly kind: ActorKind
  /** Without waiting: false when a backpressure mailbox is full (dropOldest always takes it). */
  readonly send: (msg: Msg) => boolean
  /** Waits for room in a full backpressure mailbox; never drops. */
  readonly offer: (msg: Msg) => Effect.Effect<void, MailboxClosed>
  readonly offerAsync: (msg: Msg) => Promise<void>
  readonly depth: () => number
  readonly dropped: () => number
  readonly blockedSenders: () => number
}

/**
 * Actor kinds and their mailbox overflow: market data may drop the oldest (a newer delta
 * supersedes it and the sequence check turns the loss into a resync); everything that carries
 * an order, a risk decision or money never drops, the sender waits instead.
 */
export type ActorKind = "instrument" | "order" | "risk" | "portfolio" | "strategy" | "venue" | "service"

export const overflowPolicyOf = (kind: ActorKind): OverflowPolicy => (kind === "instrument" ? "dropOldest" : "backpressure")

/** What an incarnation plugs into its cell while it runs. */
export interface Consumer<Msg> {
  /** One message; a returned promise pauses the mailbox until it settles. Throwing is a crash. */
  readonly handle: (msg: Msg) => void | PromiseLike<void>
  /** After each drained batch: coalesced work (publish views, throttled lifecycle events). */
  readonly afterBatch: () => void
  readonly fail: (error: unknown) => void
}

const isThenable = (r: unknown): r is PromiseLike<void> => r !== undefined && typeof (r as PromiseLike<void>).then === "function"

/**
 * Mailbox plus its drain. The drain runs in plain code on a microtask (no fiber or Promise per
 * message): up to `batchSize` messages, then `afterBatch`, then, if more wait, it yields to I/O
 * with setImmediate. The invariant that keeps it simple: whenever a consumer is attached, not
 * paused on an async handler, and the mailbox is not empty, a drain is scheduled.
 */
export class ActorCell<Msg> implements ActorRef<Msg> {
  readonly mailbox: Mailbox<Msg>
  private consumer: Consumer<Msg> | undefined
  private scheduled = false
  private paused = false
  processing: Histogram | undefined
  private readonly drainFn = (): void => this.drain()

  constructor(
    readonly id: string,
    readonly kind: ActorKind,
    capacity: number,
    readonly batchSize: number
  ) {
    this.mailbox = new Mailbox<Msg>(id, capacity, overflowPolicyOf(kind))
  }

  readonly send = (msg: Msg): boolean => {
    const ok = this.mailbox.tryOffer(msg)
    if (ok) this.wake()
    return ok
  }

  readonly offer = (msg: Msg): Effect.Effect<void, MailboxClosed> => Effect.tap(this.mailbox.offer(msg), () => this.wake())

  readonly offerAsync = (msg: Msg): Promise<void> => {
    const p = this.mailbox.offerAsync(msg)
    this.wake()
    return p
  }

  readonly depth = (): number => this.mailbox.depth
  readonly dropped = (): number => this.mailbox.dropped
  readonly blockedSenders = (): number => this.mailbox.blockedSenders

  attach(consumer: Consumer<Msg>): void {
    this.consumer = consumer
    this.paused = false
    this.wake()
  }

  /** Stops delivery to `consumer` at once (a crashed incarnation handles nothing more). */
  detach(consumer: Consumer<Msg>): void {
    if (this.consumer === consumer) this.consumer = undefined
  }

  private wake(): void {
    if (this.scheduled || this.paused || this.consumer === undefined || this.mailbox.depth === 0) return
    this.scheduled = true
    queueMicrotask(this.drainFn)
  }

  private drain(): void {
    this.scheduled = false
    const c = this.consumer
    if (c === undefined || this.paused) return
    const mailbox = this.mailbox
    const start = this.processing === undefined ? 0 : performance.now()
    let n = 0
    try {
      // A handler or the machine may crash the incarnation mid-batch: the rest waits for the next one.
      while (n < this.batchSize && mailbox.depth > 0 && this.consumer === c) {
        n++
        const r = c.handle(mailbox.poll() as Msg)
        if (isThenable(r)) {
          this.paused = true
          r.then(
            () => {
              if (this.consumer !== c) return
              this.paused = false
              this.wake()
            },
            (e: unknown) => {
              this.paused = false
              if (this.consumer === c) c.fail(e)
            }
          )
          break
        }
      }
      if (this.consumer === c) c.afterBatch()
    } catch (e) {
      c.fail(e)
      return
    }
    if (this.processing !== undefined && n > 0) this.processing.observeMany((performance.now() - start) / 1e3 / n, n)
    if (this.consumer === c && !this.paused && mailbox.depth > 0) {
      this.scheduled = true
      setImmediate(this.drainFn)
    }
  }
}
