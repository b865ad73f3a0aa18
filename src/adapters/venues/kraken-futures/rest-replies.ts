import { Schema } from "effect"
import { DecimalText, IntFromText } from "./json-exact.js"

/**
 * Schemas of the REST replies, decoded AFTER `quoteNumbers`: every JSON number arrives as its
 * source text, so money decodes through `DecimalText` and never touches a float. Fields we do
 * not use are ignored (excess properties pass), fields we use but the venue may leave out or
 * send as `null` are optional.
 */

const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(Schema.NullOr(s), { exact: true })

export const Envelope = Schema.Struct({
  result: Schema.String,
  error: opt(Schema.String),
  serverTime: opt(Schema.String)
})

const OrderEvent = Schema.Struct({
  type: Schema.String,
  reason: opt(Schema.String),
  executionId: opt(Schema.String),
  price: opt(DecimalText),
  amount: opt(DecimalText)
})

export const SendOrderReply = Schema.Struct({
  sendStatus: Schema.Struct({
    status: Schema.String,
    order_id: opt(Schema.String),
    cliOrdId: opt(Schema.String),
    receivedTime: opt(Schema.String),
    orderEvents: opt(Schema.Array(OrderEvent))
  })
})

export const EditOrderReply = Schema.Struct({
  editStatus: Schema.Struct({
    status: Schema.String,
    orderId: opt(Schema.String),
    cliOrdId: opt(Schema.String),
    receivedTime: opt(Schema.String),
    orderEvents: opt(Schema.Array(OrderEvent))
  })
})

export const CancelOrderReply = Schema.Struct({
  cancelStatus: Schema.Struct({
    status: Schema.String,
    order_id: opt(Schema.String),
    cliOrdId: opt(Schema.String),
    receivedTime: opt(Schema.String)
  })
})

export const CancelAllReply = Schema.Struct({
  cancelStatus: Schema.Struct({
    status: Schema.String,
    cancelledOrders: opt(Schema.Array(Schema.Struct({ order_id: Schema.String, cliOrdId: opt(Schema.String) })))
  })
})

export const CancelAllAfterReply = Schema.Struct({
  status: Schema.Struct({ currentTime: opt(Schema.String), triggerTime: opt(Schema.String) })
})

export const BatchOrderReply = Schema.Struct({
  batchStatus: Schema.Array(
    Schema.Struct({
      status: Schema.String,
      order_tag: opt(Schema.String),
      order_id: opt(Schema.String),
      cliOrdId: opt(Schema.String)
    })
  )
})

export const OpenOrdersReply = Schema.Struct({
  openOrders: Schema.Array(
    Schema.Struct({
      order_id: Schema.String,
      cliOrdId: opt(Schema.String),
      symbol: Schema.String,
      side: Schema.Literal("buy", "sell"),
      orderType: Schema.String,
      limitPrice: opt(DecimalText),
      stopPrice: opt(DecimalText),
      unfilledSize: DecimalText,
      filledSize: opt(DecimalText),
      receivedTime: opt(Schema.String),
      status: opt(Schema.String),
      reduceOnly: opt(Schema.Boolean)
    })
  )
})

export const FillsReply = Schema.Struct({
  fills: Schema.Array(
    Schema.Struct({
      fill_id: Schema.String,
      order_id: Schema.String,
      cliOrdId: opt(Schema.String),
      symbol: Schema.String,
      side: Schema.Literal("buy", "sell"),
      size: DecimalText,
      price: DecimalText,
      fillTime: opt(Schema.String),
      fillType: opt(Schema.String)
    })
  )
})

export const OpenPositionsReply = Schema.Struct({
  openPositions: Schema.Array(
    Schema.Struct({
      symbol: Schema.String,
      side: Schema.Literal("long", "short"),
      size: DecimalText,
      price: DecimalText,
      fillTime: opt(Schema.String)
    })
  )
})

export const InstrumentEntry = Schema.Struct({
  symbol: Schema.String,
  type: Schema.String,
  tradeable: Schema.Boolean,
  tickSize: opt(DecimalText),
  contractSize: opt(DecimalText),
  contractValueTradePrecision: opt(IntFromText),
  base: opt(Schema.String),
  quote: opt(Schema.String),
  underlying: opt(Schema.String),
  postOnly: opt(Schema.Boolean),
  lastTradingTime: opt(Schema.String)
})
export type InstrumentEntry = typeof InstrumentEntry.Type

/** Entries are decoded one by one (see instruments.ts), so one odd entry cannot hide the rest. */
export const InstrumentsReply = Schema.Struct({ instruments: Schema.Array(Schema.Unknown) })
