export * from "./limits.js"
export * from "./measures.js"
export * from "./returns.js"
export * from "./stress.js"
