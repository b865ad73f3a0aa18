import { compileOrderMachine, orderContextOf } from "../dist/machines/order.step.js"
const input = { clientOrderId: "b", instrumentId: "i", side: "buy", kind: "limit", timeInForce: "gtc", quantity: "1000000", price: "65000.5" }
const orders = Array.from({ length: 64 }, (_, b) => { const out = [{ type: "SUBMIT" }, { type: "ACCEPTED", venueOrderId: "V" }]; for (let i = 0; i < 64; i++) { out.push({ type: "FILL", fillId: `f${b}-${i}`, quantity: "0.001", price: "65000.5" }); if (i % 8 === 0) out.push({ type: "MODIFY", change: { price: "65001" } }, { type: "MODIFIED", change: { price: "65001" } }); if (i % 16 === 0) out.push({ type: "CANCEL" }, { type: "CANCEL_REJECTED", reason: "busy" }) } return out })
const c = compileOrderMachine(() => 0)
const host = { effect() {}, schedule() {}, cancel() {} }
let n = 0; const t = performance.now()
while (performance.now() - t < 4000) { for (const evs of orders) { const cell = c.start(orderContextOf(input), host); for (const e of evs) c.step(cell, e, host); n += evs.length } }
console.log(Math.round(n / ((performance.now() - t) / 1000)), "events/s")
