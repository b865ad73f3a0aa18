import { describe, expect, it } from "vitest"
import { VenueDecodeError } from "../../../src/adapters/venues/binance-usdm/errors.js"
import { decodeUserFrame } from "../../../src/adapters/venues/binance-usdm/user-stream.js"

// The venue's documented user data stream frames (developers.binance.com, USD-M user data streams), verbatim.
const ORDER_TRADE_UPDATE =
  '{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"TRAILING_STOP_MARKET","f":"GTC","q":"0.001","p":"0","ap":"0","sp":"7103.04","x":"NEW","X":"NEW","i":8886774,"l":"0","z":"0","L":"0","N":"USDT","n":"0","T":1568879465650,"t":0,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"TRAILING_STOP_MARKET","ps":"LONG","cp":false,"AP":"7476.89","cr":"5.0","pP":false,"si":0,"ss":0,"rp":"0","V":"EXPIRE_TAKER","pm":"OPPONENT","gtd":0,"er":"0"}}'
const ACCOUNT_UPDATE =
  '{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"20","ep":"6563.66500","bep":"0","cr":"0","up":"2850.21200","mt":"isolated","iw":"13200.70726908","ps":"LONG"}]}}'
const ALGO_UPDATE =
  '{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"Q5xaq5EGKgXXa0fD7fs0Ip","aid":2148719,"at":"CONDITIONAL","o":"TAKE_PROFIT","s":"BNBUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.01","X":"CANCELED","ai":"","ap":"0.00000","aq":"0.00000","act":"0","tp":"750","p":"750","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":false,"tt":0,"gtd":0,"rm":"Reduce Only reject"}}'

describe("decodeUserFrame", () => {
  it("ORDER_TRADE_UPDATE: the fields the gateway reads, decimals as text", () => {
    expect(decodeUserFrame(ORDER_TRADE_UPDATE)).toMatchObject({
      _tag: "OrderUpdate", symbol: "BTCUSDT", clientOrderId: "TEST", side: "sell", execution: "NEW", status: "NEW", orderId: 8886774,
      origQty: "0.001", stopPrice: "7103.04", lastQty: "0", fee: "0", feeAsset: "USDT", tradeId: 0, maker: false, originalType: "TRAILING_STOP_MARKET", eventTime: 1568879465651
    })
  })

  it("ACCOUNT_UPDATE: wallet balance and positions as exact decimals", () => {
    const u = decodeUserFrame(ACCOUNT_UPDATE)
    expect(u !== undefined && typeof u === "object" && u._tag).toBe("AccountUpdate")
    if (u === undefined || typeof u !== "object" || u._tag !== "AccountUpdate") return
    expect([u.reason, u.walletBalance?.toFixed(), u.positions.map((p) => [p.symbol, p.amount.toFixed(), p.entryPrice.toFixed()])]).toEqual(["ORDER", "122624.12345678", [["BTCUSDT", "20", "6563.665"]]])
  })

  it("ALGO_UPDATE: client algo id, algo id, status", () => {
    expect(decodeUserFrame(ALGO_UPDATE)).toMatchObject({ _tag: "AlgoUpdate", symbol: "BNBUSDT", clientAlgoId: "Q5xaq5EGKgXXa0fD7fs0Ip", algoId: 2148719, status: "CANCELED", triggerPrice: "750", actualOrderId: "" })
  })

  it("listenKeyExpired is recognised; other events carry nothing; garbage is a decode error", () => {
    expect(decodeUserFrame('{"e":"listenKeyExpired","E":1576653824250,"listenKey":"k"}')).toBe("listenKeyExpired")
    expect(decodeUserFrame('{"e":"TRADE_LITE","E":1}')).toBeUndefined()
    expect(decodeUserFrame("not json")).toBeInstanceOf(VenueDecodeError)
    expect(decodeUserFrame('{"e":"ORDER_TRADE_UPDATE","o":{"s":"BTCUSDT"}}')).toBeInstanceOf(VenueDecodeError)
    expect(decodeUserFrame('{"e":"ACCOUNT_UPDATE","a":{"P":[{"s":"BTCUSDT","pa":20,"ep":"1"}]}}')).toBeInstanceOf(VenueDecodeError)
  })
})
