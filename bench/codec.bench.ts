import { Either } from "effect"
import { Packr } from "msgpackr"
import { decodeEvent, decodeEventObject, decodeEventObjectWithSchema, encodeEvent, encodeEventObject } from "../src/domain/codec.js"
import { dec } from "../src/domain/decimal.js"
import type { CanonicalEvent, CanonicalEventEncoded } from "../src/domain/events/index.js"
import { rateFigure, round, throughput, type Bench } from "./harness.js"

/**
 * `codec.msgpack`: canonical event -> msgpack bytes -> validated event, for a mix shaped like
 * a live journal (mostly book deltas and trades, some order flow). Baseline in the same run:
 * `JSON.stringify` + `JSON.parse` of the same wire objects, without validation.
 */

const instrument = "kraken-futures:PF_XBTUSD" as never
const account = "acct-1" as never
let n = 0
const env = (source: string) => ({ id: `node1-1-${++n}`, ts: 1_700_000_000_000 + n, source })
const px = (i: number) => dec(`${64000 + (i % 50)}.${(i * 37) % 10}`)
const qty = (i: number) => dec(`0.${String(1000 + ((i * 7919) % 9000)).padStart(4, "0")}`)

export const makeMix = (): ReadonlyArray<CanonicalEvent> => {
  const out: Array<CanonicalEvent> = []
  for (let i = 0; i < 1000; i++) {
    const r = i % 100
    if (r === 0) {
      const levels = Array.from({ length: 25 }, (_, k) => [px(k), qty(i + k)] as const)
      out.push({ _tag: "BookSnapshot", ...env("kraken-futures/md"), instrument, seq: i, bids: levels, asks: levels })
    } else if (r < 60) {
      out.push({ _tag: "BookDelta", ...env("kraken-futures/md"), instrument, seq: i, bids: [[px(i), qty(i)]], asks: [], venueTs: 1_700_000_000_000 + i })
    } else if (r < 75) {
      out.push({ _tag: "Trade", ...env("kraken-futures/md"), instrument, price: px(i), qty: qty(i), aggressor: i % 2 === 0 ? "buy" : "sell", venueTs: 1_700_000_000_000 + i })
    } else if (r < 80) {
      out.push({ _tag: "Ticker", ...env("kraken-futures/md"), instrument, bid: px(i), bidQty: qty(i), ask: px(i + 1), askQty: qty(i + 1), last: px(i), markPrice: px(i), fundingRate: dec("0.0000123") })
    } else if (r < 84) {
      out.push({ _tag: "SubmitOrder", ...env("strategy/mm1"), account, strategy: "mm1" as never, instrument, clientOrderId: `mm1-1-${i}` as never, side: "buy", orderType: "postOnly", qty: qty(i), price: px(i), reduceOnly: false })
    } else if (r < 88) {
      out.push({ _tag: "RiskApproved", ...env("risk/acct-1"), account, intentId: `node1-1-${i}`, intent: "SubmitOrder", instrument, clientOrderId: `mm1-1-${i}` as never })
    } else if (r < 92) {
      out.push({ _tag: "OrderAccepted", ...env("kraken-futures/private"), account, instrument, clientOrderId: `mm1-1-${i}` as never, venueOrderId: `c8b2-${i}` as never })
    } else if (r < 95) {
      out.push({
        _tag: "OrderFilled", ...env("kraken-futures/private"), account, instrument, clientOrderId: `mm1-1-${i}` as never, venueOrderId: `c8b2-${i}` as never,
        fillId: `f-${i}` as never, side: "buy", price: px(i), qty: qty(i), fee: dec("0.00000213"), feeCurrency: "USD", liquidity: "maker"
      })
    } else if (r < 97) {
      out.push({ _tag: "PositionChanged", ...env("portfolio"), account, instrument, qty: qty(i), avgPrice: dec("64012.123456789"), realizedPnl: dec("-12.3400001"), fillId: `f-${i}` as never })
    } else {
      out.push({ _tag: "StrategyRecord", ...env("strategy/mm1"), strategy: "mm1" as never, name: "fair", value: px(i) })
    }
  }
  return out
}

const run = async () => {
  const events = makeMix()
  const wires: ReadonlyArray<CanonicalEventEncoded> = events.map(encodeEventObject)
  const bytes = events.map(encodeEvent)
  // Sanity: the figure is meaningless if the round trip is wrong.
  for (const b of bytes) if (Either.isLeft(decodeEvent(b))) throw new Error("bench mix does not round-trip")

  // The machine may be shared: alternate codec and baseline rounds and keep the best of each,
  // so a burst of load elsewhere does not land on one side only.
  const codecRound = () =>
    throughput(events, (e) => {
      const r = decodeEvent(encodeEvent(e))
      if (r._tag !== "Right") throw new Error("decode failed")
    }, { rounds: 1, minMs: 250 })
  const jsonRound = () =>
    throughput(wires, (w) => {
      JSON.parse(JSON.stringify(w))
    }, { rounds: 1, minMs: 250 })
  let codec = 0
  let json = 0
  for (let i = 0; i < 6; i++) {
    codec = Math.max(codec, codecRound())
    json = Math.max(json, jsonRound())
  }
  const schemaOnly = throughput(events, (e) => {
    const r = decodeEventObjectWithSchema(encodeEventObject(e))
    if (r._tag !== "Right") throw new Error("decode failed")
  }, { rounds: 3 })
  // Records with shared structures, for comparison: only valid when writer and reader share state.
  const records = new Packr({ structures: [] })
  const recordsRate = throughput(events, (e) => {
    const r = decodeEventObject(records.unpack(records.pack(encodeEventObject(e))))
    if (r._tag !== "Right") throw new Error("decode failed")
  })
  const plain = new Packr({ useRecords: false })
  const rawMsgpack = throughput(wires, (w) => {
    plain.unpack(plain.pack(w))
  })
  const encodeOnly = throughput(events, (e) => {
    encodeEvent(e)
  })
  const decodeOnly = throughput(bytes, (b) => {
    decodeEvent(b)
  })
  const avg = (xs: ReadonlyArray<number>) => round(xs.reduce((a, b) => a + b, 0) / xs.length, 1)
  return [
    rateFigure("codec.msgpack", codec, "json", json, {
      encode_msg_s: Math.round(encodeOnly),
      schema_parser_decode_msg_s: Math.round(schemaOnly),
      decode_validate_msg_s: Math.round(decodeOnly),
      raw_msgpack_msg_s: Math.round(rawMsgpack),
      records_msg_s: Math.round(recordsRate),
      avg_bytes_msgpack: avg(bytes.map((b) => b.length)),
      avg_bytes_records: avg(wires.map((w) => records.pack(w).length)),
      avg_bytes_json: avg(wires.map((w) => Buffer.byteLength(JSON.stringify(w)))),
      mix: "1000 events: 59% BookDelta, 15% Trade, 5% Ticker, 1% BookSnapshot(25x2), 20% order flow"
    })
  ]
}

export const benches: ReadonlyArray<Bench> = [{ name: "codec.msgpack", run }]
