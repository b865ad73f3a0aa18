/**
 * The inspection stream: what the actor host sees its XState machines do (events received,
 * transitions taken, snapshots), for the inspector page. Bounded: it keeps the last `capacity`
 * events for a late joiner, and delivers to subscribers synchronously, so nothing can pile up
 * behind a slow consumer — a subscriber that needs to do slow work copies and defers it.
 */

export type InspectionType = "transition" | "event" | "snapshot"

export interface InspectionEvent {
  readonly actorId: string
  readonly kind: string
  readonly type: InspectionType
  /** The machine's state value after the step (for `event`: before it is processed). */
  readonly state: unknown
  readonly event: unknown
  readonly ts: number
}

export type InspectionSubscriber = (event: InspectionEvent) => void

export class InspectionStream {
  private readonly ring: Array<InspectionEvent | undefined>
  private next = 0
  private size = 0
  private readonly subscribers = new Set<InspectionSubscriber>()
  /** Subscriber callbacks that threw; they stay subscribed. */
  subscriberErrors = 0
  published = 0

  constructor(readonly capacity = 1_024) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`inspection capacity must be a positive integer, got ${capacity}`)
    this.ring = new Array<InspectionEvent | undefined>(capacity)
  }

  publish(event: InspectionEvent): void {
    this.published++
    this.ring[this.next] = event
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1
    if (this.size < this.capacity) this.size++
    for (const s of this.subscribers) {
      try {
        s(event)
      } catch {
        this.subscriberErrors++
      }
    }
  }

  /** With `replay`, the subscriber first receives the events still held, oldest first. */
  subscribe(subscriber: InspectionSubscriber, options: { readonly replay?: boolean } = {}): () => void {
    if (options.replay === true) for (const e of this.recent()) subscriber(e)
    this.subscribers.add(subscriber)
    return () => {
      this.subscribers.delete(subscriber)
    }
  }

  /** The events held, oldest first. */
  recent(): InspectionEvent[] {
    const out: InspectionEvent[] = []
    const start = this.size < this.capacity ? 0 : this.next
    for (let k = 0; k < this.size; k++) out.push(this.ring[(start + k) % this.capacity] as InspectionEvent)
    return out
  }
}
