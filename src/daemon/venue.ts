import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { startSimulator, type Simulator } from "../adapters/venues/simulator/server.js"
import type { VenueConfig } from "./config.js"
import { DEMO_MARKET, demoInstruments, EMBEDDED_SYMBOLS } from "./demo-defaults.js"

export { EMBEDDED_SYMBOLS }

/**
 * Where the daemon trades. With no venue URL configured (the embedded default) it starts the
 * exchange simulator in-process on loopback, with a fresh account, and the real Kraken Futures
 * adapter talks to it over HTTP and WebSocket exactly as it would to the venue.
 */
export interface VenueEndpoint {
  /** REST base up to and including `/derivatives`. */
  readonly restBase: string
  readonly wsUrl: string
  readonly apiKey: string
  readonly apiSecret: string
  readonly simulator: Simulator | undefined
}

export class VenueConfigMissing extends Error {
  override readonly name = "VenueConfigMissing"
}

/** Where the embedded simulator keeps its venue state under the daemon's home. */
export const simulatorStateFile = (home: string): string => join(home, "simulator", "state.json")

/** With `home`, the embedded simulator keeps its state there, so a restarted daemon finds its open orders and positions. */
export const openVenue = async (venue: VenueConfig, symbols: ReadonlyArray<string>, home?: string): Promise<VenueEndpoint> => {
  if (venue.baseUrl !== undefined) {
    if (venue.wsUrl === undefined || venue.apiKey === undefined || venue.apiSecret === undefined) {
      throw new VenueConfigMissing("venue.baseUrl is set, so venue.wsUrl, venue.apiKey and venue.apiSecret (or TROUPE_VENUE_API_KEY/SECRET) are required too")
    }
    return { restBase: venue.baseUrl.replace(/\/+$/, ""), wsUrl: venue.wsUrl, apiKey: venue.apiKey, apiSecret: venue.apiSecret, simulator: undefined }
  }
  const apiKey = venue.apiKey ?? `troupe-${randomBytes(6).toString("hex")}`
  const apiSecret = venue.apiSecret ?? randomBytes(48).toString("base64")
  const simulator = await startSimulator({
    port: 0,
    instruments: demoInstruments(symbols),
    accounts: [{ name: venue.account, apiKey, apiSecret }],
    market: DEMO_MARKET,
    ...(home === undefined ? {} : { stateFile: simulatorStateFile(home) })
  })
  return { restBase: `${simulator.url}/derivatives`, wsUrl: simulator.wsUrl, apiKey, apiSecret, simulator }
}
