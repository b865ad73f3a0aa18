import type { WebhookConfig } from "./config.js"

/**
 * One webhook channel: a bounded queue and one sender loop. `enqueue` only pushes and returns —
 * it never waits for the network, so a slow or dead receiver never delays whoever alerts (the
 * order path least of all). Each alert is POSTed as JSON (`{"text": ..., "alert": {...}}`: the
 * `text` field is what chat tools' incoming webhooks show) with a per-attempt timeout; a failure
 * (network error, timeout, non-2xx) is retried after `backoffMs`, doubled each time (capped at
 * 60 s), `retries` times, then given up (counted). One alert at a time per webhook, in order; a
 * full queue drops its oldest alert (counted).
 */
export interface WebhookStats {
  readonly name: string
  readonly queued: number
  readonly inFlight: boolean
  readonly delivered: number
  readonly failedAttempts: number
  readonly gaveUp: number
  readonly dropped: number
}

export class WebhookChannel {
  private readonly queue: unknown[] = []
  private busy = false
  private closed = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private abort: AbortController | undefined
  delivered = 0
  failedAttempts = 0
  gaveUp = 0
  dropped = 0

  constructor(
    readonly config: WebhookConfig,
    private readonly log: (m: string) => void = () => undefined
  ) {}

  enqueue(body: unknown): void {
    if (this.closed) return
    if (this.queue.length >= this.config.maxQueue) {
      this.queue.shift()
      this.dropped++
    }
    this.queue.push(body)
    if (this.busy) return
    // The sender starts in a macrotask of its own: even its first `fetch` (which loads the HTTP
    // client, tens of ms) never runs on the caller's stack — the order path's, when a trading-state
    // change alerts.
    this.busy = true
    setImmediate(() => void this.drain())
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed && this.queue.length > 0) {
        const body = this.queue[0]
        let ok = false
        for (let attempt = 0; attempt <= this.config.retries && !this.closed; attempt++) {
          if (attempt > 0) await this.sleep(Math.min(60_000, this.config.backoffMs * 2 ** (attempt - 1)))
          if (this.closed) break
          ok = await this.post(body)
          if (ok) break
          this.failedAttempts++
        }
        this.queue.shift()
        if (ok) this.delivered++
        else if (!this.closed) {
          this.gaveUp++
          this.log(`alert webhook ${this.config.name}: gave up after ${this.config.retries + 1} attempts`)
        }
      }
    } finally {
      this.busy = false
    }
  }

  private async post(body: unknown): Promise<boolean> {
    const abort = new AbortController()
    this.abort = abort
    const timeout = setTimeout(() => abort.abort(), this.config.timeoutMs)
    try {
      const res = await fetch(this.config.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: abort.signal })
      await res.arrayBuffer().catch(() => undefined)
      return res.status >= 200 && res.status < 300
    } catch {
      return false
    } finally {
      clearTimeout(timeout)
      this.abort = undefined
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timer = setTimeout(() => {
        this.timer = undefined
        resolve()
      }, ms)
    })
  }

  stats(): WebhookStats {
    return { name: this.config.name, queued: this.queue.length, inFlight: this.abort !== undefined, delivered: this.delivered, failedAttempts: this.failedAttempts, gaveUp: this.gaveUp, dropped: this.dropped }
  }

  /** Stops sending: the request in flight is aborted, what is queued stays undelivered (it is journaled). */
  close(): void {
    this.closed = true
    this.abort?.abort()
    if (this.timer !== undefined) clearTimeout(this.timer)
  }
}
