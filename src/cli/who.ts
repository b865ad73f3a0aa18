import { userInfo } from "node:os"

/** The OS user, recorded in the audit trail as who acted; `USER` when the account has no passwd entry (containers). */
export const whoAmI = (): string => {
  try {
    return userInfo().username
  } catch {
    return process.env["USER"] ?? "unknown"
  }
}
