import WebSocket from "ws"
import { signRequest } from "../../../src/adapters/venues/simulator/auth.js"
import type { SimClock } from "../../../src/adapters/venues/simulator/exchange.js"

export interface Creds {
  readonly apiKey: string
  readonly apiSecret: string
}

/** A signed Kraken Futures REST call, parameters in the query string as the doc says. */
export const privateCall = async (base: string, creds: Creds, endpoint: string, params: Record<string, string> = {}, method = "POST"): Promise<{ status: number; body: Record<string, unknown> }> => {
  const postData = new URLSearchParams(params).toString()
  const authent = signRequest(creds.apiSecret, postData, "", `/api/v3/${endpoint}`)
  const res = await fetch(`${base}/derivatives/api/v3/${endpoint}${postData === "" ? "" : `?${postData}`}`, { method, headers: { APIKey: creds.apiKey, Authent: authent } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

export const getJson = async (url: string, init?: RequestInit): Promise<Record<string, unknown>> => (await (await fetch(url, init)).json()) as Record<string, unknown>

export const postAdmin = (base: string, path: string, body: unknown = {}): Promise<Record<string, unknown>> =>
  getJson(`${base}/__admin/${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } })

export type Msg = Record<string, unknown>

/** A WebSocket client that keeps every message so tests can wait for one that matches. */
export class FeedClient {
  readonly messages: Msg[] = []
  private waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void }> = []
  closed = false
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString("utf8")) as Msg
      this.messages.push(m)
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true
        w.resolve(m)
        return false
      })
    })
    ws.on("close", () => {
      this.closed = true
    })
  }

  static open(url: string): Promise<FeedClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      const client = new FeedClient(ws)
      ws.once("open", () => resolve(client))
      ws.once("error", reject)
    })
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message))
  }

  /** The first message (already received or future) that matches. */
  next(pred: (m: Msg) => boolean, timeoutMs = 3000): Promise<Msg> {
    const seen = this.messages.find(pred)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs)
      this.waiters.push({ pred, resolve: (m) => {
        clearTimeout(timer)
        resolve(m)
      } })
    })
  }

  close(): void {
    this.ws.terminate()
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A clock the test moves by hand; timers fire in due order on `advance`. */
export const manualClock = (start = 1_700_000_000_000): SimClock & { advance: (ms: number) => void } => {
  let now = start
  let nextId = 1
  const timers = new Map<number, { at: number; fn: () => void }>()
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++
      timers.set(id, { at: now + ms, fn })
      return id
    },
    clearTimeout: (id) => {
      timers.delete(id as number)
    },
    advance: (ms) => {
      const end = now + ms
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (due === undefined) break
        timers.delete(due[0])
        now = due[1].at
        due[1].fn()
      }
      now = end
    }
  }
}
