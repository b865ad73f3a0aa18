import type { AccountId } from "../../domain/ids.js"
import type { CancelAll, CancelOrder, ModifyOrder, SubmitOrder } from "../../domain/events/intents.js"
import type { VenueCall } from "./rate-limiter.js"

/**
 * The only thing a VenueGateway accepts. `ApprovedAction` has a private constructor and an
 * ECMAScript-private brand, so TypeScript treats it nominally (no object literal or other class
 * fits the type) and `ApprovedAction.isGenuine` recognises it at run time. Instances are made by
 * `mintApproval`, which only the risk actor imports (test/actors/risk/approval.test.ts fails if
 * any file outside src/actors/risk does) and which the risk package index does not re-export.
 */
export type VenueAction =
  | { readonly kind: "submit"; readonly intent: SubmitOrder }
  | { readonly kind: "modify"; readonly intent: ModifyOrder }
  | { readonly kind: "cancel"; readonly intent: CancelOrder }
  | { readonly kind: "cancelAll"; readonly intent: CancelAll }
  /** Kraken's dead man's switch: the venue cancels every order of the account after `timeoutSec`. */
  | { readonly kind: "cancelAllAfter"; readonly account: AccountId; readonly timeoutSec: number }

let mint: ((approvalId: string, account: AccountId, call: VenueCall, cost: number, action: VenueAction, approvedAt: number) => ApprovedAction) | undefined

export class ApprovedAction {
  readonly #approved = true

  private constructor(
    /** The `id` of the RiskApproved event journaled before this action may be sent. */
    readonly approvalId: string,
    readonly account: AccountId,
    /** The venue endpoint it will use and the rate-limit cost risk charged for it. */
    readonly call: VenueCall,
    readonly cost: number,
    readonly action: VenueAction,
    readonly approvedAt: number
  ) {}

  static {
    mint = (approvalId, account, call, cost, action, approvedAt) => new ApprovedAction(approvalId, account, call, cost, action, approvedAt)
  }

  /** Run-time guard for ports that receive values from less typed code (tests, adapters). */
  static isGenuine(u: unknown): u is ApprovedAction {
    return typeof u === "object" && u !== null && #approved in u
  }

  /** Readable by the gateway's logs; the brand is not part of it. */
  toJSON(): object {
    return { approvalId: this.approvalId, account: this.account, call: this.call, cost: this.cost, action: this.action, approvedAt: this.approvedAt }
  }

  get approved(): boolean {
    return this.#approved
  }
}

/** Risk-internal: the one way to make an ApprovedAction. */
export const mintApproval = (
  approvalId: string,
  account: AccountId,
  call: VenueCall,
  cost: number,
  action: VenueAction,
  approvedAt: number
): ApprovedAction => (mint as NonNullable<typeof mint>)(approvalId, account, call, cost, action, approvedAt)
