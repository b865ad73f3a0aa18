/**
 * The Kraken Futures (derivatives v3) venue adapter: REST execution, public market data and
 * the private order/fill feed, all normalized to Troupe's canonical events. Kraken switches
 * this API off on 2027-03-01; a successor API is a new adapter beside this one.
 */
export { monotonicNonce, signChallenge, signRest } from "./auth.js"
export type { DecodeStats } from "./decode-stats.js"
export * from "./errors.js"
export { mapInstruments, lotFromPrecision, type InstrumentsLoad, type KrakenInstrument } from "./instruments.js"
export { DEMO_WS_URL, KrakenMarketData, PRODUCTION_WS_URL, PublicFeedSession, type MarketDataConfig, type MarketDataCounters, type MarketDataSignal, type PublicFeed } from "./market-data.js"
export { envelopeSource, VENUE_ID, type EnvelopeSource } from "./md-normalize.js"
export { KrakenPrivateFeed, PrivateFeedSession, type PrivateFeedConfig, type PrivateFeedName, type PrivateFeedSignal } from "./private-feed.js"
export {
  DEMO_BASE_URL,
  makeKrakenRestClient,
  PRODUCTION_BASE_URL,
  type BatchInstruction,
  type KrakenRestClient,
  type KrakenRestConfig,
  type SendOrderRequest,
  type SendOrderResult,
  type StatusResult
} from "./rest.js"
export { errorFromVenue, type StatusOutcome } from "./status.js"
export type { ConnectionConfig, ConnectionSignal } from "./ws-connection.js"
export { krakenOrderType, makeKrakenVenueGateway, reasonOf, type KrakenGatewayConfig, type KrakenGatewayCounters, type KrakenGatewayLog, type KrakenVenueGateway } from "./gateway.js"
export { makeKrakenMarketDataPort, type KrakenMarketDataPort, type KrakenMarketDataPortConfig, type KrakenMarketDataPortCounters } from "./market-data-port.js"
export { historyRoot, parseSettlementRows, SettlementWatcher, type Settlement, type SettlementWatcherConfig } from "./settlement.js"
