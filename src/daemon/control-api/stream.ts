import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { Either } from "effect"
import { WebSocketServer, type WebSocket } from "ws"
import { encodeEventObjectEither } from "../../domain/codec.js"
import type { DaemonControl, StreamItem } from "../control.js"

/**
 * `/api/stream`: the live stream over WebSocket. A client proves the token either on the
 * upgrade (`Authorization: Bearer` or `?token=`, for scripts) or, as the browser does (it can
 * set no header and should not put the token in a URL), with a first message
 * `{"type":"auth","token":"..."}`. Nothing is sent before that. Messages are JSON:
 * `{"type":"ready"}`, `{"type":"inspection", actorId, kind, type, state, event, ts}`,
 * `{"type":"event", "event": <canonical event wire form>}`.
 */

const AUTH_TIMEOUT_MS = 5_000
/** A client this far behind is cut off (close 1013) rather than buffered without end. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024

export interface StreamCounters {
  clients: number
  sent: number
  /** Items that could not be serialised (never expected: the host keeps events JSON-able). */
  unencodable: number
  slowClientsClosed: number
  authFailures: number
}

export interface StreamHub {
  readonly counters: StreamCounters
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, preAuthenticated: boolean) => void
  readonly close: () => void
}

const serialise = (item: StreamItem): string | undefined => {
  try {
    if (item.type === "inspection") {
      const e = item.event
      return JSON.stringify({ type: "inspection", actorId: e.actorId, kind: e.kind, inspection: e.type, state: e.state, event: e.event, ts: e.ts })
    }
    const encoded = encodeEventObjectEither(item.event)
    return Either.isRight(encoded) ? JSON.stringify({ type: "event", event: encoded.right }) : undefined
  } catch {
    return undefined
  }
}

export const makeStreamHub = (control: DaemonControl, checkToken: (candidate: string) => boolean): StreamHub => {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 })
  const counters: StreamCounters = { clients: 0, sent: 0, unencodable: 0, slowClientsClosed: 0, authFailures: 0 }
  const unsubscribes = new Set<() => void>()

  const start = (ws: WebSocket): void => {
    const unsubscribe = control.subscribe((item) => {
      if (ws.readyState !== ws.OPEN) return
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        counters.slowClientsClosed++
        ws.close(1013, "slow consumer")
        return
      }
      const text = serialise(item)
      if (text === undefined) {
        counters.unencodable++
        return
      }
      counters.sent++
      ws.send(text)
    })
    unsubscribes.add(unsubscribe)
    ws.once("close", () => {
      unsubscribe()
      unsubscribes.delete(unsubscribe)
    })
    ws.send(JSON.stringify({ type: "ready" }))
  }

  const accept = (ws: WebSocket, preAuthenticated: boolean): void => {
    counters.clients++
    ws.once("close", () => counters.clients--)
    ws.on("error", () => undefined)
    if (preAuthenticated) return start(ws)
    const timer = setTimeout(() => ws.close(4401, "no auth message"), AUTH_TIMEOUT_MS)
    ws.once("close", () => clearTimeout(timer))
    ws.once("message", (data) => {
      clearTimeout(timer)
      let token: unknown
      try {
        const msg = JSON.parse(data.toString()) as unknown
        if (typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === "auth") token = (msg as { token?: unknown }).token
      } catch {
        token = undefined
      }
      if (typeof token === "string" && checkToken(token)) return start(ws)
      counters.authFailures++
      ws.close(4401, "unauthorized")
    })
  }

  return {
    counters,
    handleUpgrade: (req, socket, head, preAuthenticated) => wss.handleUpgrade(req, socket, head, (ws) => accept(ws, preAuthenticated)),
    close: () => {
      for (const u of unsubscribes) u()
      unsubscribes.clear()
      for (const ws of wss.clients) ws.terminate()
      wss.close()
    }
  }
}
