export { PortfolioActor, type Exposures, type PortfolioDeps, type PortfolioUpdate } from "./portfolio.actor.js"
