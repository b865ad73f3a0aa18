import { Data, Effect } from "effect"

/**
 * What a full mailbox does with one more message:
 * - `dropOldest` (market data): the oldest message goes, the new one is kept, `dropped` counts it;
 *   a newer book delta or ticker supersedes an old one, and a resync repairs gaps.
 * - `backpressure` (orders, risk): nothing is ever dropped; the sender waits for room.
 */
export type OverflowPolicy = "dropOldest" | "backpressure"

export class MailboxClosed extends Data.TaggedError("MailboxClosed")<{ readonly name: string }> {
  override get message(): string {
    return `mailbox ${this.name} is closed`
  }
}

interface Sender<A> {
  readonly value: A
  readonly resolve: () => void
  readonly reject: (e: MailboxClosed) => void
}

interface Taker<A> {
  readonly resolve: (a: A) => void
  readonly reject: (e: MailboxClosed) => void
}

const RESOLVED: Promise<void> = Promise.resolve()

/**
 * A bounded FIFO on a ring buffer. When there is room, `offer` and `offerAsync` enqueue without
 * allocating a Promise or a fiber; only a sender that has to wait costs one. Senders that wait
 * are served in arrival order, and a new sender never overtakes them, so per-sender order and
 * global arrival order are both kept.
 */
export class Mailbox<A> {
  private readonly buf: Array<A | undefined>
  private head = 0
  private size = 0
  private droppedCount = 0
  private closed = false
  private readonly senders: Sender<A>[] = []
  private readonly takers: Taker<A>[] = []

  constructor(
    readonly name: string,
    readonly capacity: number,
    readonly policy: OverflowPolicy
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`mailbox ${name}: capacity must be a positive integer, got ${capacity}`)
    this.buf = new Array<A | undefined>(capacity)
  }

  /** Messages waiting in the buffer (not counting senders blocked on a full backpressure mailbox). */
  get depth(): number {
    return this.size
  }

  /** Messages dropped by `dropOldest` since the mailbox was made. */
  get dropped(): number {
    return this.droppedCount
  }

  /** Senders suspended on a full backpressure mailbox. */
  get blockedSenders(): number {
    return this.senders.length
  }

  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Enqueues if it can without waiting: always for `dropOldest` (dropping the oldest when full),
   * for `backpressure` only when there is room and no sender is already waiting. False when
   * full or closed.
   */
  tryOffer(value: A): boolean {
    if (this.closed) return false
    const taker = this.takers.shift()
    if (taker !== undefined) {
      taker.resolve(value)
      return true
    }
    if (this.size < this.capacity && this.senders.length === 0) {
      this.push(value)
      return true
    }
    if (this.policy === "dropOldest") {
      this.buf[this.head] = undefined
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1
      this.size--
      this.droppedCount++
      this.push(value)
      return true
    }
    return false
  }

  /** Enqueues, suspending the sending fiber while a backpressure mailbox is full. Interrupting a waiting sender withdraws its message. */
  offer(value: A): Effect.Effect<void, MailboxClosed> {
    return Effect.suspend(() => {
      if (this.tryOffer(value)) return Effect.void
      if (this.closed) return Effect.fail(new MailboxClosed({ name: this.name }))
      return Effect.async<void, MailboxClosed>((resume) => {
        const sender: Sender<A> = {
          value,
          resolve: () => resume(Effect.void),
          reject: (e) => resume(Effect.fail(e))
        }
        this.senders.push(sender)
        return Effect.sync(() => this.withdraw(sender))
      })
    })
  }

  /** `offer` for callers outside Effect. Returns one shared, already-resolved Promise when there is room. */
  offerAsync(value: A): Promise<void> {
    if (this.tryOffer(value)) return RESOLVED
    if (this.closed) return Promise.reject(new MailboxClosed({ name: this.name }))
    return new Promise<void>((resolve, reject) => {
      this.senders.push({ value, resolve, reject })
    })
  }

  /** The next message, if any, without waiting. */
  poll(): A | undefined {
    if (this.size === 0) return undefined
    const value = this.buf[this.head] as A
    this.buf[this.head] = undefined
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1
    this.size--
    this.admitSender()
    return value
  }

  /** Up to `max` messages at once, oldest first: lets the consumer work in batches. */
  pollUpTo(max: number): A[] {
    const out: A[] = []
    while (out.length < max) {
      if (this.size === 0) break
      out.push(this.poll() as A)
    }
    return out
  }

  /** The next message, waiting for one. Fails once the mailbox is closed and drained. */
  readonly take: Effect.Effect<A, MailboxClosed> = Effect.suspend(() => {
    if (this.size > 0) return Effect.succeed(this.poll() as A)
    if (this.closed) return Effect.fail(new MailboxClosed({ name: this.name }))
    return Effect.async<A, MailboxClosed>((resume) => {
      const taker: Taker<A> = { resolve: (a) => resume(Effect.succeed(a)), reject: (e) => resume(Effect.fail(e)) }
      this.takers.push(taker)
      return Effect.sync(() => {
        const i = this.takers.indexOf(taker)
        if (i >= 0) this.takers.splice(i, 1)
      })
    })
  })

  /**
   * Refuses new messages and releases everyone waiting: blocked senders fail with
   * `MailboxClosed` (their messages were never accepted), waiting takers too. Messages already
   * in the buffer can still be polled.
   */
  close(): void {
    if (this.closed) return
    this.closed = true
    const e = new MailboxClosed({ name: this.name })
    for (const s of this.senders.splice(0)) s.reject(e)
    for (const t of this.takers.splice(0)) t.reject(e)
  }

  private push(value: A): void {
    let tail = this.head + this.size
    if (tail >= this.capacity) tail -= this.capacity
    this.buf[tail] = value
    this.size++
  }

  private admitSender(): void {
    const sender = this.senders.shift()
    if (sender === undefined) return
    this.push(sender.value)
    sender.resolve()
  }

  private withdraw(sender: Sender<A>): void {
    const i = this.senders.indexOf(sender)
    if (i >= 0) this.senders.splice(i, 1)
  }
}

export const makeMailbox = <A>(name: string, capacity: number, policy: OverflowPolicy): Mailbox<A> => new Mailbox<A>(name, capacity, policy)
