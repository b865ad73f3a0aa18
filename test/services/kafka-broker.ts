import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, openSync, closeSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Kafka, logLevel } from "kafkajs"
import { freePort } from "./free-port.js"

/**
 * A real Apache Kafka broker for tests and benches: single node, KRaft mode, from the official
 * jars that Maven resolves from our own pom (services/kafka/pom.xml) into a git-ignored cache.
 * If KAFKA_BROKERS is set and answers, that broker is used instead and left alone.
 */
export interface KafkaService {
  readonly brokers: ReadonlyArray<string>
  /** True when we started the broker (and so may restart or stop it). */
  readonly owned: boolean
  readonly logFile: string | undefined
  readonly stop: () => Promise<void>
  /** Stops the broker process and starts it again on the same ports and data (for restart tests). */
  readonly restart: (downMs?: number) => Promise<void>
}

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)))
const pomDir = join(repoRoot, "services", "kafka")
const libsDir = join(pomDir, "target", "kafka-libs")

const log = (msg: string): void => {
  process.stderr.write(`[services] ${msg}\n`)
}

export const brokerAnswers = async (brokers: ReadonlyArray<string>, timeoutMs: number): Promise<boolean> => {
  const kafka = new Kafka({ brokers: [...brokers], clientId: "troupe-probe", logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } })
  const admin = kafka.admin()
  const attempt = async (): Promise<boolean> => {
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      return cluster.brokers.length > 0
    } catch {
      return false
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await attempt()) return true
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * The first consumer group on a new broker creates and loads `__consumer_offsets`; on a loaded
 * 2-core machine that has taken over a minute. Journal reads are consumer groups, so the broker
 * is only "ready" once a group coordinator answers.
 */
const groupCoordinatorReady = async (brokers: ReadonlyArray<string>, timeoutMs: number): Promise<boolean> => {
  const kafka = new Kafka({ brokers: [...brokers], clientId: "troupe-probe", logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } })
  const admin = kafka.admin()
  const deadline = Date.now() + timeoutMs
  try {
    await admin.connect()
    for (;;) {
      try {
        await admin.describeGroups(["troupe-warmup"])
        return true
      } catch {
        if (Date.now() > deadline) return false
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

const ensureJars = (): void => {
  const present = existsSync(libsDir) && readdirSync(libsDir).some((f) => f.startsWith("kafka_2.13-"))
  if (present) return
  log("resolving the Apache Kafka broker jars with Maven (first run only)...")
  const mvn = spawnSync("mvn", ["-q", "-B", "dependency:copy-dependencies"], { cwd: pomDir, stdio: ["ignore", "inherit", "inherit"] })
  if (mvn.error || mvn.status !== 0) {
    throw new Error(
      "Kafka broker jars could not be resolved: the tests need Java 17+ and Maven (mvn) with access to Maven Central, or KAFKA_BROKERS pointing at a running broker"
    )
  }
}

const javaBin = (): string => {
  const home = process.env.JAVA_HOME
  if (home && existsSync(join(home, "bin", "java"))) return join(home, "bin", "java")
  return "java"
}

/**
 * Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. One starting with
 * "-" (1 in 64) is read as an option by kafka-storage's argument parser: draw again.
 */
const clusterId = (): string => {
  for (;;) {
    const id = randomBytes(16).toString("base64url")
    if (!id.startsWith("-")) return id
  }
}

export const startKafka = async (): Promise<KafkaService> => {
  const fromEnv = process.env.KAFKA_BROKERS
  if (fromEnv) {
    const brokers = fromEnv.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    if (await brokerAnswers(brokers, 5000)) {
      log(`using the Kafka broker at ${brokers.join(",")} (KAFKA_BROKERS)`)
      return { brokers, owned: false, logFile: undefined, stop: async () => undefined, restart: async () => { throw new Error("cannot restart a broker we did not start") } }
    }
    log(`KAFKA_BROKERS=${fromEnv} does not answer; starting a local broker instead`)
  }
  ensureJars()
  const dir = mkdtempSync(join(tmpdir(), "troupe-kafka-"))
  const [port, controllerPort] = [await freePort(), await freePort()]
  const props = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${join(dir, "data")}`,
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=4",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=4",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    // Cluster nodes detect a dead trading node within their session timeout (docs/cluster.md); the
    // broker's default minimum (6 s) would refuse the ~2 s the cluster issue asks for.
    "group.min.session.timeout.ms=1000",
    // Topics are created up front: kafkajs with KRaft brokers misbehaves on auto-create.
    "auto.create.topics.enable=false",
    "log.flush.interval.messages=9223372036854775807"
  ]
  writeFileSync(join(dir, "server.properties"), props.join("\n") + "\n")
  writeFileSync(
    join(dir, "log4j2.yaml"),
    ["Configuration:", "  Appenders:", "    Console:", "      name: STDOUT", "      PatternLayout:", '        Pattern: "[%d] %p %m (%c)%n"', "  Loggers:", "    Root:", "      level: WARN", "      AppenderRef:", "        - ref: STDOUT", ""].join("\n")
  )
  const classpath = `${libsDir}/*`
  const format = spawnSync(javaBin(), ["-cp", classpath, "kafka.tools.StorageTool", "format", `--cluster-id=${clusterId()}`, "-c", join(dir, "server.properties")], { encoding: "utf8" })
  if (format.error || format.status !== 0) {
    throw new Error(`formatting Kafka storage failed (is Java 17+ installed?): ${format.error?.message ?? format.stderr}`)
  }
  const logFile = join(dir, "broker.log")
  let child: ChildProcess | undefined

  const launch = (): void => {
    const out = openSync(logFile, "a")
    // A bash watchdog ties the broker's life to ours: if this process dies without its teardown,
    // the broker is stopped instead of lingering on the machine.
    const script = `"$0" "$@" & b=$!; trap 'kill $b 2>/dev/null; wait $b; exit 0' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $b 2>/dev/null; do sleep 1; done; kill $b 2>/dev/null; wait $b`
    child = spawn(
      "bash",
      ["-c", script, javaBin(), "-Xms256m", "-Xmx768m", "-XX:+UseSerialGC", `-Dlog4j2.configurationFile=${join(dir, "log4j2.yaml")}`, "-cp", classpath, "kafka.Kafka", join(dir, "server.properties")],
      { stdio: ["ignore", out, out] }
    )
    closeSync(out)
  }

  const waitReady = async (): Promise<void> => {
    if (!(await brokerAnswers([`127.0.0.1:${port}`], 90_000)) || !(await groupCoordinatorReady([`127.0.0.1:${port}`], 90_000))) {
      const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : ""
      throw new Error(`the Kafka broker did not answer within 90 s; log tail:\n${tail}`)
    }
  }

  const halt = async (): Promise<void> => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise<void>((r) => c.once("exit", () => r()))
    c.kill("SIGTERM")
    const timer = setTimeout(() => c.kill("SIGKILL"), 20_000)
    await exited
    clearTimeout(timer)
  }

  const started = Date.now()
  launch()
  await waitReady()
  log(`Kafka broker ready on 127.0.0.1:${port} in ${Date.now() - started} ms (log: ${logFile})`)
  return {
    brokers: [`127.0.0.1:${port}`],
    owned: true,
    logFile,
    restart: async (downMs = 0) => {
      await halt()
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
      launch()
      await waitReady()
    },
    stop: async () => {
      await halt()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
