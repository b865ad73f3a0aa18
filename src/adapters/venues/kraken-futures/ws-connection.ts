import { Either } from "effect"
import WebSocket from "ws"
import { createActor, type Actor, type SnapshotFrom } from "xstate"
import { hopTrace } from "../../../actors/trace/hop-trace.js"
import { VenueId } from "../../../domain/ids.js"
import { DEFAULT_BACKOFF, venueConnectionMachine, type BackoffPolicy } from "../../../machines/venue-connection.machine.js"

/**
 * One WebSocket that stays up, driven by the venue-connection machine: the machine decides
 * when to open, authenticate, subscribe, back off (exponential, jitter, cap) and give up;
 * this class performs those actions on a real socket and feeds the machine what happens
 * (opened, authenticated, frames and pongs as heartbeats, failures). It knows nothing of
 * Kraken's messages: the session on top authenticates, subscribes and reads the text frames.
 */

export type ConnectionSignal =
  | { readonly _tag: "Connecting"; readonly attempt: number }
  | { readonly _tag: "Connected" }
  | { readonly _tag: "Disconnected"; readonly reason: string; readonly reconnectInMs?: number }
  /** `maxAttempts` failures in a row: the machine is in `failed`; escalate to the supervisor. */
  | { readonly _tag: "GaveUp"; readonly reason: string }
  | { readonly _tag: "HandlerFailed"; readonly detail: string }

export interface ConnectionConfig {
  readonly url: string
  readonly backoff?: BackoffPolicy
  /** Seed of the machine's jitter generator (replayable delays). */
  readonly seed?: number
  /** WS ping interval; Kraken wants one at least every 60 s. */
  readonly pingIntervalMs?: number
  /** No frame and no pong for this long ⇒ the connection is dead (machine `heartbeatTimeout`). */
  readonly staleAfterMs?: number
  readonly connectTimeoutMs?: number
  readonly authTimeoutMs?: number
}

export interface ConnectionHandlers {
  /** Start authentication; call `connection.authenticated()` (or `failed`) when done. */
  readonly authenticate: (connection: ManagedConnection) => void
  readonly subscribe: (connection: ManagedConnection) => void
  readonly onText: (text: string) => void
  readonly onSignal: (signal: ConnectionSignal) => void
}

const KRAKEN_FUTURES = Either.getOrThrow(VenueId("kraken-futures"))

export class ManagedConnection {
  private ws: WebSocket | undefined
  private readonly actor: Actor<typeof venueConnectionMachine>
  private pingTimer: ReturnType<typeof setInterval> | undefined
  private lastBeat = 0
  private readonly beatEvery: number
  private stopped = true
  private lastState = ""

  constructor(
    private readonly config: ConnectionConfig,
    private readonly handlers: ConnectionHandlers
  ) {
    const staleAfter = config.staleAfterMs ?? 30_000
    this.beatEvery = Math.max(1, Math.min(1000, staleAfter / 4))
    const machine = venueConnectionMachine.provide({
      actions: {
        openSocket: () => this.open(),
        authenticate: () => this.safely(() => handlers.authenticate(this)),
        subscribeChannels: () => this.safely(() => handlers.subscribe(this)),
        closeSocket: () => this.drop(),
        escalate: ({ context }) => this.signal({ _tag: "GaveUp", reason: context.lastError ?? "unknown" })
      },
      delays: {
        heartbeatTimeout: staleAfter,
        connectTimeout: config.connectTimeoutMs ?? 10_000,
        authTimeout: config.authTimeoutMs ?? 10_000
      }
    })
    this.actor = createActor(machine, {
      input: { venue: KRAKEN_FUTURES, backoff: config.backoff ?? DEFAULT_BACKOFF, seed: config.seed ?? Math.floor(Math.random() * 2 ** 31) }
    })
    // Subscribe to errors before start: an unobserved actor error would crash the process.
    this.actor.subscribe({ next: (s) => this.onState(s), error: (e) => this.signal({ _tag: "HandlerFailed", detail: String(e).slice(0, 200) }) })
  }

  /** The machine's state, e.g. `{"online":"subscribed"}`, for the inspector and tests. */
  state(): SnapshotFrom<typeof venueConnectionMachine> {
    return this.actor.getSnapshot()
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.actor.start()
    this.actor.send({ type: "CONNECT" })
  }

  send(message: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message))
  }

  authenticated(): void {
    queueMicrotask(() => this.actor.send({ type: "AUTHENTICATED" }))
  }

  /** Drop the socket and go through backoff (auth refused, resync impossible, ...). */
  failed(error: string): void {
    queueMicrotask(() => this.actor.send({ type: "FAILED", error }))
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const ws = this.ws
    this.actor.send({ type: "DISCONNECT" })
    this.actor.stop()
    this.clearPing()
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      // A peer that never completes the close handshake must not hang shutdown.
      const force = setTimeout(() => {
        ws.terminate()
        resolve()
      }, 2000)
      ws.once("close", () => {
        clearTimeout(force)
        resolve()
      })
    })
  }

  private signal(s: ConnectionSignal): void {
    try {
      this.handlers.onSignal(s)
    } catch {
      // a throwing signal handler must not take the connection down
    }
  }

  private safely(f: () => void): void {
    try {
      f()
    } catch (e) {
      this.signal({ _tag: "HandlerFailed", detail: e instanceof Error ? e.message.slice(0, 200) : String(e).slice(0, 200) })
    }
  }

  private onState(s: SnapshotFrom<typeof venueConnectionMachine>): void {
    const key = JSON.stringify(s.value)
    if (key === this.lastState) return
    this.lastState = key
    if (s.matches({ online: "connecting" })) this.signal({ _tag: "Connecting", attempt: s.context.attempts })
    else if (s.matches({ online: "backoff" })) this.signal({ _tag: "Disconnected", reason: s.context.lastError ?? "unknown", reconnectInMs: s.context.backoffMs })
  }

  private beat(): void {
    const now = Date.now()
    if (now - this.lastBeat < this.beatEvery) return
    this.lastBeat = now
    this.actor.send({ type: "HEARTBEAT" })
  }

  private open(): void {
    const ws = new WebSocket(this.config.url)
    this.ws = ws
    ws.on("open", () => {
      if (this.ws !== ws) return
      this.signal({ _tag: "Connected" })
      this.armPing(ws)
      this.actor.send({ type: "OPENED" })
    })
    ws.on("message", (data, isBinary) => {
      if (this.ws !== ws) return
      if (hopTrace.on) hopTrace.frameArrived()
      this.beat()
      const text = isBinary ? "" : Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8")
      this.safely(() => this.handlers.onText(text))
    })
    ws.on("pong", () => {
      if (this.ws === ws) this.beat()
    })
    ws.on("error", () => {
      // 'close' follows every 'error'; the failure is reported there.
    })
    ws.on("close", (code, reason) => {
      if (this.ws !== ws) return
      this.ws = undefined
      this.clearPing()
      if (!this.stopped) this.actor.send({ type: "FAILED", error: `socket closed (${code}${reason.length > 0 ? ` ${reason.toString("utf8").slice(0, 120)}` : ""})` })
    })
  }

  private drop(): void {
    const ws = this.ws
    this.ws = undefined
    this.clearPing()
    if (ws === undefined) return
    if (this.stopped && ws.readyState === WebSocket.OPEN) ws.close()
    else ws.terminate()
  }

  private armPing(ws: WebSocket): void {
    this.clearPing()
    this.pingTimer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.ping()
    }, this.config.pingIntervalMs ?? 10_000)
  }

  private clearPing(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer)
    this.pingTimer = undefined
  }
}
