/**
 * The Binance USD-M (`fapi`) venue adapter, first part: instruments from exchangeInfo, the
 * public market data port (official local-book algorithm), typed errors, REST order entry.
 * Not yet: the user data stream, the WebSocket API, countdownCancelAll, the venue gateway
 * (ApprovedAction → reports) and daemon wiring. See docs/binance-adapter.md.
 */
export * from "./errors.js"
export { mapExchangeInfo, PERPETUAL_DELIVERY, VENUE, type BinanceInstrument, type InstrumentsLoad, type QtyLimits } from "./instruments.js"
export {
  DepthSync,
  makeBinanceMarketDataPort,
  PRODUCTION_REST_URL,
  PRODUCTION_WS_URL,
  type BinanceMarketDataPort,
  type BinanceMarketDataPortConfig,
  type BinanceMarketDataPortCounters,
  type BinanceMarketDataSignal,
  type BreakReason,
  type DepthEvent,
  type DepthSnapshot,
  type ExtraStream
} from "./market-data.js"
export { makeBinanceRestClient, type BinanceOrder, type BinanceRestClient, type BinanceRestConfig, type ModifyOrderRequest, type PlaceOrderRequest, type PlaceOutcome } from "./rest.js"
export { signedParams, signTotalParams, signWsApiParams } from "./signing.js"
