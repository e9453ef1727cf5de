import { z } from 'zod';

/** How a variable is documented: in `ENV_VARIABLES` and in every `ConfigError` line. */
export interface EnvDoc {
  description: string;
  /** What a valid value looks like, in words: `comma-separated host:port`. */
  expected: string;
  example: string;
  /** The value is never echoed back in an error (credentials in URLs). */
  secret?: boolean;
}

/** One row of the environment table, as docs and the compose check read it. */
export interface EnvVariable {
  name: string;
  required: boolean;
  /** The default as it would be written in the environment; absent when there is none. */
  default?: string;
  description: string;
  expected: string;
  example: string;
}

// A registry of our own rather than zod's global one: no other library's metadata can collide
// with ours, and `describeEnv` only ever sees variables declared through `envVar`.
const envDocs = z.registry<EnvDoc>();

/**
 * Declares one environment variable: its zod schema (parsing the raw string) and its doc.
 * Use it for every key of a schema passed to {@link loadConfig}, so that errors and docs can say
 * what is expected.
 */
export function envVar<S extends z.ZodType>(schema: S, doc: EnvDoc): S {
  envDocs.add(schema, doc);
  return schema;
}

/** A decimal integer in `[min, max]`, from its string form. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  // Not z.coerce.number(): it accepts '', '1e3', ' 12 ' and '0x10', which are typos in an
  // environment file rather than numbers anyone meant.
  return z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));
}

const hostPort = /^[A-Za-z0-9._-]+:(\d{1,5})$/;

/** Every variable every service reads; services add theirs with `serviceEnv.extend({...})`. */
export const serviceEnv = z.object({
  SERVICE_NAME: envVar(z.enum(['order', 'payment', 'inventory', 'shipping']), {
    description: 'which service this process runs',
    expected: 'one of order, payment, inventory, shipping',
    example: 'order',
  }),
  DATABASE_URL: envVar(z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/), {
    description: "postgresql URL of the service's own database, with its own role",
    expected: 'a postgresql:// URL',
    example: 'postgresql://order@127.0.0.1:5432/order',
    secret: true,
  }),
  KAFKA_BROKERS: envVar(
    z
      .string()
      .transform((list) => list.split(',').map((broker) => broker.trim()))
      .refine((brokers) =>
        brokers.every((broker) => {
          const port = hostPort.exec(broker)?.[1];
          return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
        }),
      ),
    {
      description: 'Kafka bootstrap brokers',
      expected: 'comma-separated host:port',
      example: '127.0.0.1:9092',
    },
  ),
  KAFKA_TOPIC_PREFIX: envVar(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/)
      .default(''),
    {
      description: 'prefix for every topic; tests isolate themselves with it',
      expected: 'letters, digits, ".", "_" or "-" (Kafka topic characters)',
      example: 'test-42.',
    },
  ),
  HTTP_PORT: envVar(integer(0, 65535).default(3000), {
    description:
      'HTTP port (order: API; all: /health); locally order 3000, inventory 3001, payment 3002, shipping 3003',
    expected: 'an integer port 0-65535 (0 picks a free one)',
    example: '3000',
  }),
  LOG_LEVEL: envVar(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), {
    description: 'pino log level',
    expected: 'one of fatal, error, warn, info, debug, trace, silent',
    example: 'debug',
  }),
  LOG_FORMAT: envVar(z.enum(['json', 'pretty']).default('json'), {
    description:
      'json: one JSON object per line, every field; pretty: one short coloured line for a terminal',
    expected: 'json or pretty',
    example: 'pretty',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: envVar(z.url({ protocol: /^https?$/ }).optional(), {
    description: 'OTLP/HTTP endpoint; unset means traces are not exported',
    expected: 'an http(s) URL',
    example: 'http://127.0.0.1:4318',
  }),
  OUTBOX_RELAY: envVar(z.enum(['inprocess', 'debezium']).default('inprocess'), {
    description:
      'who publishes the outbox: inprocess, the service\'s own relay; debezium, Kafka Connect reading the WAL (README "Scaling out"): the service then runs no relay and deletes each outbox row in the transaction that wrote it',
    expected: 'inprocess or debezium',
    example: 'debezium',
  }),
  OUTBOX_RELAY_BATCH_SIZE: envVar(integer(1).default(500), {
    description: 'outbox rows per relay batch',
    expected: 'a positive integer',
    example: '500',
  }),
  OUTBOX_RELAY_COMPRESSION: envVar(z.enum(['none', 'gzip']).default('none'), {
    description: 'compression of the batches the relay produces',
    expected: 'none or gzip',
    example: 'gzip',
  }),
  OUTBOX_RELAY_POLL_INTERVAL_MS: envVar(integer(1).default(1000), {
    description: 'fallback poll of the relay when no NOTIFY arrives, in milliseconds',
    expected: 'a positive integer (milliseconds)',
    example: '1000',
  }),
  OUTBOX_RETENTION_HOURS: envVar(integer(1).default(24), {
    description: 'published outbox rows older than this are deleted',
    expected: 'a positive integer (hours)',
    example: '24',
  }),
  OUTBOX_RELAY_MAX_BATCH_BYTES: envVar(integer(1024).default(1_000_000), {
    description:
      "bytes per relay batch at most; the relay also stays below 95% of the broker's message.max.bytes, read at start, and parks a row larger than that",
    expected: 'an integer of at least 1024 (bytes)',
    example: '1000000',
  }),
  OUTBOX_RELAY_SESSION_TIMEOUT_MS: envVar(integer(1000).default(10_000), {
    description:
      'a relay leader whose database session is silent this long loses leadership (the server ends the session); a standby takes over within about this plus 1 s',
    expected: 'an integer of at least 1000 (milliseconds)',
    example: '10000',
  }),
  OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND: envVar(z.string().min(1).optional(), {
    description:
      "FAILURE-DRILL HOOK, never set in production (unset: off). When the file at this path exists, the relay deletes it, writes <path>.held (the batch's message ids) and holds its next acknowledged batch unmarked until <path>.held is removed (60 s at most): `pnpm drill relay-crash` kills the service meanwhile",
    expected: 'a file path the service may create and delete',
    example: '/tmp/relay-hold',
  }),
  KAFKA_TOPIC_RETENTION_HOURS: envVar(integer(1).default(720), {
    description:
      'retention.ms of the topics the services create (segments roll at least daily, so a record stays at most this plus 24 h): the replay horizon',
    expected: 'a positive integer (hours)',
    example: '720',
  }),
  KAFKA_TOPIC_REPLICATION_FACTOR: envVar(integer(1, 32).optional(), {
    description:
      "replicas of each topic the services create; unset: the broker's default.replication.factor (scripts/kafka.sh sets 1 for one broker, 3 for a cluster)",
    expected: 'a positive integer, at most the number of brokers',
    example: '3',
  }),
  INBOX_RETENTION_HOURS: envVar(integer(1).default(744), {
    description:
      'inbox rows (processed message ids) older than this are deleted; must be at least KAFKA_TOPIC_RETENTION_HOURS + 24, so a message still on a topic is still de-duplicated',
    expected: 'a positive integer (hours), at least KAFKA_TOPIC_RETENTION_HOURS + 24',
    example: '744',
  }),
  IDEMPOTENCY_KEY_TTL_HOURS: envVar(integer(1).default(24), {
    description:
      '(order) an Idempotency-Key is honoured this long after its first use; after that a request with it is a new request, and the key row is deleted',
    expected: 'a positive integer (hours)',
    example: '24',
  }),
  PURGE_INTERVAL_MS: envVar(integer(1000).default(60_000), {
    description: 'how often expired outbox, inbox and idempotency-key rows are purged',
    expected: 'an integer of at least 1000 (milliseconds)',
    example: '60000',
  }),
  PURGE_BATCH_SIZE: envVar(integer(1, 100_000).default(1000), {
    description: 'rows deleted per purge statement (a purge runs statements until one is not full)',
    expected: 'an integer 1-100000',
    example: '1000',
  }),
  CONSUMER_MAX_ATTEMPTS: envVar(integer(1).default(5), {
    description: 'handler attempts before a message goes to the dead-letter topic',
    expected: 'a positive integer',
    example: '5',
  }),
  CONSUMER_RETRY_BACKOFF_MS: envVar(integer(0).default(200), {
    description: 'first retry delay in milliseconds; it doubles up to a cap',
    expected: 'a non-negative integer (milliseconds)',
    example: '200',
  }),
  CONSUMER_FAULT_HOLD_AFTER_COMMIT: envVar(z.string().min(1).optional(), {
    description:
      'FAILURE-DRILL HOOK, never set in production (unset: off). When the file at this path exists, the consumer deletes it, writes <path>.held (topic, partition, message ids and offsets of the run) and holds its next applied run, committed in the database, before its offsets are committed, until <path>.held is removed (60 s at most): `pnpm drill consumer-crash` kills the service meanwhile',
    expected: 'a file path the service may create and delete',
    example: '/tmp/consumer-hold',
  }),
  METRICS_PORT: envVar(integer(1, 65535).optional(), {
    description: 'port of the Prometheus /metrics endpoint; unset: no endpoint',
    expected: 'a port number',
    example: '9464',
  }),
  SAGA_STEP_TIMEOUT_MS: envVar(integer(1).default(5000), {
    description: '(order) how long a participant has to answer a saga step before it is re-sent',
    expected: 'a positive integer (milliseconds)',
    example: '5000',
  }),
  SAGA_STEP_MAX_ATTEMPTS: envVar(integer(1).default(3), {
    description: '(order) sends of a saga step before it counts as failed and the saga compensates',
    expected: 'a positive integer',
    example: '3',
  }),
  SAGA_COMPENSATION_MAX_ATTEMPTS: envVar(integer(1).default(5), {
    description: '(order) sends of a compensation before the saga ends in COMPENSATION_FAILED',
    expected: 'a positive integer',
    example: '5',
  }),
  SAGA_COMPENSATION_BACKOFF_MS: envVar(integer(0).default(1000), {
    description: '(order) first extra wait before a compensation is re-sent; it doubles per attempt',
    expected: 'a non-negative integer (milliseconds)',
    example: '1000',
  }),
  ORDER_MAX_SAGAS_IN_FLIGHT: envVar(integer(1).default(2000), {
    description: '(order) POST /orders answers 429 while more sagas than this are running',
    expected: 'a positive integer',
    example: '2000',
  }),
  ORDER_MAX_UNPUBLISHED_OUTBOX: envVar(integer(1).default(5000), {
    description:
      "(order) POST /orders answers 429 while the order service's outbox holds more unpublished rows",
    expected: 'a positive integer',
    example: '5000',
  }),
  ADMIN_TOKEN: envVar(z.string().min(16).max(512).optional(), {
    description:
      'bearer token of the admin endpoints (e.g. POST /admin/sagas/{orderId}/retry); unset: they answer 403',
    expected: 'a secret of 16 to 512 characters (e.g. `openssl rand -hex 32`)',
    example: '3f9a1c0e7b5d42a8c6e1f0b9d2a7c4e5',
    secret: true,
  }),
});

/** An object schema whose keys are environment variable names. */
export type EnvSchema = z.ZodObject<z.ZodRawShape>;

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;

/** `{ KAFKA_BROKERS: string[] }` → `{ kafkaBrokers: string[] }`. */
export type CamelCased<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

/** The configuration of a service that reads only {@link serviceEnv}. */
export type ServiceConfig = CamelCased<z.output<typeof serviceEnv>>;

function camelCase(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Thrown by {@link loadConfig}; `problems` holds one line per missing or invalid variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(
      `invalid environment (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`,
    );
  }
}

function problemLine(
  name: string,
  raw: string | undefined,
  doc: EnvDoc | undefined,
  fallback: string,
): string {
  const state =
    raw === undefined ? 'missing' : doc?.secret ? 'invalid' : `invalid (got ${JSON.stringify(raw)})`;
  const hint = doc ? `expected ${doc.expected}, e.g. ${doc.example}` : fallback;
  return `${name}: ${state}; ${hint}`;
}

/**
 * Reads the environment into a typed configuration with camelCased keys, or throws a
 * {@link ConfigError} that names every missing or invalid variable at once, so a broken
 * deployment is fixed in one round trip rather than one variable per restart.
 *
 * An empty value counts as unset: compose files write `FOO=` to mean "no value".
 *
 * @example
 * const config = loadConfig();                                     // serviceEnv from process.env
 * const orderEnv = serviceEnv.extend({ ORDER_MAX_ITEMS: envVar(integer(1).default(50), {...}) });
 * const orderConfig = loadConfig(orderEnv, process.env);           // { ..., orderMaxItems: 50 }
 */
export function loadConfig(env?: NodeJS.ProcessEnv): ServiceConfig;
export function loadConfig<S extends EnvSchema>(schema: S, env?: NodeJS.ProcessEnv): CamelCased<z.output<S>>;
export function loadConfig(
  schemaOrEnv?: EnvSchema | NodeJS.ProcessEnv,
  maybeEnv?: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const schema: EnvSchema = schemaOrEnv instanceof z.ZodObject ? (schemaOrEnv as EnvSchema) : serviceEnv;
  const env = (schemaOrEnv instanceof z.ZodObject ? maybeEnv : schemaOrEnv) ?? process.env;
  const shape: z.ZodRawShape = schema.shape;

  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(shape)) {
    const raw = env[name];
    input[name] = raw === '' ? undefined : raw;
  }

  const result = schema.safeParse(input);
  if (!result.success) {
    const byVariable = new Map<string, string>();
    const others: string[] = [];
    for (const issue of result.error.issues) {
      const name = issue.path[0];
      const variable = typeof name === 'string' ? shape[name] : undefined;
      if (typeof name === 'string' && variable) {
        // One line per variable: a value can break several checks, the reader needs one fix.
        if (!byVariable.has(name)) {
          byVariable.set(name, problemLine(name, input[name], envDocs.get(variable), issue.message));
        }
      } else {
        others.push(issue.message);
      }
    }
    // Schema order, not zod's issue order: the list then reads like the env table.
    const ordered = Object.keys(shape).flatMap((name) => byVariable.get(name) ?? []);
    throw new ConfigError([...ordered, ...others]);
  }

  const crossProblems = crossVariableRules.flatMap((rule) => rule(result.data) ?? []);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);

  return Object.fromEntries(Object.entries(result.data).map(([name, value]) => [camelCase(name), value]));
}

/** A rule between variables, checked once each variable is valid on its own: a problem line or nothing. */
type CrossVariableRule = (values: Record<string, unknown>) => string | undefined;

const crossVariableRules: CrossVariableRule[] = [
  // A message can be redelivered for as long as it is on its topic: retention, plus up to one
  // segment (24 h) because Kafka deletes whole segments. Its inbox row must outlive that, or the
  // redelivery is applied a second time.
  ({ INBOX_RETENTION_HOURS: inbox, KAFKA_TOPIC_RETENTION_HOURS: topic }) => {
    if (typeof inbox !== 'number' || typeof topic !== 'number' || inbox >= topic + 24) return undefined;
    return (
      `INBOX_RETENTION_HOURS: ${inbox} is shorter than the replay horizon; expected at least ` +
      `KAFKA_TOPIC_RETENTION_HOURS + 24 = ${topic + 24}, or a message still on a topic would be applied twice when redelivered`
    );
  },
];

/**
 * The documentation rows of a schema's variables, derived from the schemas themselves: a variable
 * is required when an unset value fails, and its default is what an unset value parses to.
 */
export function describeEnv(schema: EnvSchema): EnvVariable[] {
  return Object.entries(schema.shape).map(([name, variable]) => {
    const doc = envDocs.get(variable);
    if (!doc) throw new Error(`${name} was declared without envVar(): it has no description`);
    const unset = z.safeParse(variable, undefined);
    const row: EnvVariable = {
      name,
      required: !unset.success,
      description: doc.description,
      expected: doc.expected,
      example: doc.example,
    };
    if (unset.success && unset.data !== undefined) row.default = String(unset.data);
    return row;
  });
}

/** The variables every service reads, for docs and the docker-compose check. */
export const ENV_VARIABLES: readonly EnvVariable[] = describeEnv(serviceEnv);
