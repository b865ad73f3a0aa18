/**
 * The Binance USD-M (`fapi`) venue adapter: instruments from exchangeInfo, the public market
 * data port (official local-book algorithm), typed errors, REST and WebSocket API order entry,
 * the user data stream, and the venue gateway (ApprovedAction → reports, algo orders,
 * countdownCancelAll). Not yet wired into the daemon. See docs/binance-adapter.md.
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
export {
  makeBinanceRestClient,
  reconcilePlace,
  type BinanceAlgoOrder,
  type BinanceOrder,
  type BinanceRestClient,
  type BinanceRestConfig,
  type BinanceUsage,
  type BinanceUserTrade,
  type ModifyOrderRequest,
  type PlaceAlgoRequest,
  type PlaceOrderRequest,
  type PlaceOutcome
} from "./rest.js"
export { makeBinanceWsApiClient, type BinanceWsApiClient, type BinanceWsApiConfig } from "./ws-api.js"
export { BinanceUserStream, decodeUserFrame, type AccountUpdate, type AlgoUpdate, type OrderUpdate, type UserStreamConfig, type UserStreamCounters, type UserStreamSignal, type UserUpdate } from "./user-stream.js"
export { binanceOrderType, makeBinanceVenueGateway, reasonOf, type BinanceGatewayConfig, type BinanceGatewayCounters, type BinanceGatewayLog, type BinanceVenueGateway } from "./gateway.js"
export { signedParams, signTotalParams, signWsApiParams } from "./signing.js"
