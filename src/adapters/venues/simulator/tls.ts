import { execFileSync } from "node:child_process"
import { X509Certificate } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface TlsMaterial {
  readonly key: string
  readonly cert: string
  /** SHA-256 fingerprint, colon-separated hex (what browsers and `openssl x509 -fingerprint -sha256` print). */
  readonly fingerprint: string
}

/**
 * A fresh self-signed certificate for `localhost` and 127.0.0.1 (P-256, 30 days), made with the
 * `openssl` command-line tool: Node can use X.509 certificates but cannot make them.
 */
export const selfSignedCertificate = (): TlsMaterial => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-sim-tls-"))
  try {
    const keyFile = join(dir, "key.pem")
    const certFile = join(dir, "cert.pem")
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile,
      "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
    ], { stdio: ["ignore", "ignore", "pipe"] })
    const cert = readFileSync(certFile, "utf8")
    return { key: readFileSync(keyFile, "utf8"), cert, fingerprint: new X509Certificate(cert).fingerprint256 }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The same certificate material from files (`--tls-cert`/`--tls-key` style configuration). */
export const tlsFromPem = (key: string, cert: string): TlsMaterial => ({ key, cert, fingerprint: new X509Certificate(cert).fingerprint256 })
