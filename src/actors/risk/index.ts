// The risk package's public face. `mintApproval` is deliberately not here: only the risk actor makes approvals.
export { ApprovedAction, type VenueAction } from "./approval.js"
export type { Denial, HaltCause } from "./checks.js"
export { RiskConfigInvalid, type AccountLimits, type InstrumentLimits } from "./limits.js"
export { CostWindow, KRAKEN_FUTURES_COSTS, KRAKEN_FUTURES_RATE, StrategyRateLimiter, VenueRateLimiter, type StrategyRateConfig, type VenueCall, type VenueRateConfig } from "./rate-limiter.js"
export { RiskActor, type CarriedTradingState, type Decision, type RiskActorConfig, type RiskActorDeps } from "./risk.actor.js"
