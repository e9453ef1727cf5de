import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, ENV_VARIABLES, describeEnv, envVar, integer, loadConfig, serviceEnv } from './env.js';

const required = {
  SERVICE_NAME: 'order',
  DATABASE_URL: 'postgresql://order:secret@127.0.0.1:5432/order',
  KAFKA_BROKERS: '127.0.0.1:9092',
};

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns camelCased keys with every default when only the required variables are set', () => {
    expect(loadConfig(required)).toEqual({
      serviceName: 'order',
      databaseUrl: 'postgresql://order:secret@127.0.0.1:5432/order',
      kafkaBrokers: ['127.0.0.1:9092'],
      kafkaTopicPrefix: '',
      httpPort: 3000,
      logLevel: 'info',
      logFormat: 'json',
      otelExporterOtlpEndpoint: undefined,
      outboxRelay: 'inprocess',
      outboxRelayBatchSize: 500,
      outboxRelayCompression: 'none',
      outboxRelayPollIntervalMs: 1000,
      outboxRetentionHours: 24,
      outboxRelayMaxBatchBytes: 1_000_000,
      outboxRelaySessionTimeoutMs: 10_000,
      kafkaTopicRetentionHours: 720,
      inboxRetentionHours: 744,
      idempotencyKeyTtlHours: 24,
      purgeIntervalMs: 60_000,
      purgeBatchSize: 1000,
      consumerMaxAttempts: 5,
      consumerRetryBackoffMs: 200,
      metricsPort: undefined,
      sagaStepTimeoutMs: 5000,
      sagaStepMaxAttempts: 3,
      sagaCompensationMaxAttempts: 5,
      sagaCompensationBackoffMs: 1000,
      orderMaxSagasInFlight: 2000,
      orderMaxUnpublishedOutbox: 5000,
      adminToken: undefined,
    });
  });

  it('parses numbers, lists and enums from their string form', () => {
    const config = loadConfig({
      ...required,
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9093',
      HTTP_PORT: '3002',
      LOG_LEVEL: 'debug',
      OUTBOX_RELAY_COMPRESSION: 'gzip',
      OUTBOX_RELAY_BATCH_SIZE: '100',
      CONSUMER_RETRY_BACKOFF_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    });
    expect(config.kafkaBrokers).toEqual(['kafka-1:9092', 'kafka-2:9093']);
    expect(config.httpPort).toBe(3002);
    expect(config.logLevel).toBe('debug');
    expect(config.outboxRelayCompression).toBe('gzip');
    expect(config.outboxRelayBatchSize).toBe(100);
    expect(config.consumerRetryBackoffMs).toBe(0);
    expect(config.otelExporterOtlpEndpoint).toBe('http://127.0.0.1:4318');
  });

  it('reads process.env when no environment is given', () => {
    const saved = { ...process.env };
    Object.assign(process.env, required, { SERVICE_NAME: 'shipping' });
    try {
      expect(loadConfig().serviceName).toBe('shipping');
    } finally {
      for (const key of Object.keys(required)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('lists every missing required variable, one per line, with what is expected and an example', () => {
    let error: unknown;
    try {
      loadConfig({});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n').slice(1)).toEqual([
      'SERVICE_NAME: missing; expected one of order, payment, inventory, shipping, e.g. order',
      'DATABASE_URL: missing; expected a postgresql:// URL, e.g. postgresql://order@127.0.0.1:5432/order',
      'KAFKA_BROKERS: missing; expected comma-separated host:port, e.g. 127.0.0.1:9092',
    ]);
  });

  it('reports missing and invalid variables together rather than stopping at the first', () => {
    const problems = problemsOf({
      SERVICE_NAME: 'billing',
      HTTP_PORT: 'abc',
      LOG_LEVEL: 'loud',
      KAFKA_BROKERS: '',
    });
    expect(problems).toEqual([
      'SERVICE_NAME: invalid (got "billing"); expected one of order, payment, inventory, shipping, e.g. order',
      'DATABASE_URL: missing; expected a postgresql:// URL, e.g. postgresql://order@127.0.0.1:5432/order',
      'KAFKA_BROKERS: missing; expected comma-separated host:port, e.g. 127.0.0.1:9092',
      'HTTP_PORT: invalid (got "abc"); expected an integer port 0-65535 (0 picks a free one), e.g. 3000',
      'LOG_LEVEL: invalid (got "loud"); expected one of fatal, error, warn, info, debug, trace, silent, e.g. debug',
    ]);
  });

  it('treats an empty value as unset, so `FOO=` in a compose file falls back to the default', () => {
    expect(loadConfig({ ...required, HTTP_PORT: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toMatchObject({
      httpPort: 3000,
      otelExporterOtlpEndpoint: undefined,
    });
  });

  it('never echoes the database URL back, since it may hold a password', () => {
    const [problem] = problemsOf({ ...required, DATABASE_URL: 'mysql://root:hunter2@db/order' });
    expect(problem).toBe(
      'DATABASE_URL: invalid; expected a postgresql:// URL, e.g. postgresql://order@127.0.0.1:5432/order',
    );
  });

  it.each([
    ['KAFKA_BROKERS', '127.0.0.1'],
    ['KAFKA_BROKERS', '127.0.0.1:9092,'],
    ['KAFKA_BROKERS', 'kafka:99999'],
    ['KAFKA_TOPIC_PREFIX', 'test/1'],
    ['HTTP_PORT', '65536'],
    ['HTTP_PORT', '1e3'],
    ['HTTP_PORT', '-1'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', '127.0.0.1:4318'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'],
    ['OUTBOX_RELAY', 'kafka-connect'],
    ['OUTBOX_RELAY_BATCH_SIZE', '0'],
    ['OUTBOX_RELAY_BATCH_SIZE', '2.5'],
    ['OUTBOX_RELAY_COMPRESSION', 'snappy'],
    ['OUTBOX_RELAY_POLL_INTERVAL_MS', '0'],
    ['OUTBOX_RETENTION_HOURS', 'day'],
    ['CONSUMER_MAX_ATTEMPTS', '0'],
    ['CONSUMER_RETRY_BACKOFF_MS', '-5'],
  ])('refuses %s=%s', (name, value) => {
    const problems = problemsOf({ ...required, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(
        `^${name}: invalid \\(got "${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\); expected .+, e.g. .+$`,
      ),
    );
  });

  it('accepts port 0 so tests can ask the OS for a free port', () => {
    expect(loadConfig({ ...required, HTTP_PORT: '0' }).httpPort).toBe(0);
  });

  it('refuses an inbox retention shorter than the topic retention plus a segment, naming both variables', () => {
    const attempt = () =>
      loadConfig({ ...required, KAFKA_TOPIC_RETENTION_HOURS: '168', INBOX_RETENTION_HOURS: '168' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /INBOX_RETENTION_HOURS: 168 is shorter than the replay horizon; expected at least KAFKA_TOPIC_RETENTION_HOURS \+ 24 = 192/,
    );
    expect(
      loadConfig({ ...required, KAFKA_TOPIC_RETENTION_HOURS: '24', INBOX_RETENTION_HOURS: '48' })
        .inboxRetentionHours,
    ).toBe(48);
  });

  it('accepts a postgres:// URL as well as postgresql://', () => {
    expect(loadConfig({ ...required, DATABASE_URL: 'postgres://u@h/db' }).databaseUrl).toBe(
      'postgres://u@h/db',
    );
  });
});

describe('a service extending the shared environment', () => {
  const orderEnv = serviceEnv.extend({
    ORDER_MAX_ITEMS: envVar(integer(1, 100).default(50), {
      description: 'most items in one order',
      expected: 'an integer 1-100',
      example: '50',
    }),
    PAYMENT_GATEWAY_URL: envVar(z.url(), {
      description: 'where charges go',
      expected: 'a URL',
      example: 'http://127.0.0.1:8080',
    }),
  });

  it('gets its own variables, camelCased and typed, next to the shared ones', () => {
    const config = loadConfig(orderEnv, { ...required, PAYMENT_GATEWAY_URL: 'http://pay.local/' });
    const maxItems: number = config.orderMaxItems;
    expect(maxItems).toBe(50);
    expect(config.paymentGatewayUrl).toBe('http://pay.local/');
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:9092']);
  });

  it('has its own variables reported with their own docs, in schema order', () => {
    expect(() => loadConfig(orderEnv, { ...required, ORDER_MAX_ITEMS: '500' })).toThrow(
      new ConfigError([
        'ORDER_MAX_ITEMS: invalid (got "500"); expected an integer 1-100, e.g. 50',
        'PAYMENT_GATEWAY_URL: missing; expected a URL, e.g. http://127.0.0.1:8080',
      ]),
    );
  });

  it('documents its own variables after the shared ones', () => {
    expect(describeEnv(orderEnv).slice(-2)).toEqual([
      {
        name: 'ORDER_MAX_ITEMS',
        required: false,
        default: '50',
        description: 'most items in one order',
        expected: 'an integer 1-100',
        example: '50',
      },
      {
        name: 'PAYMENT_GATEWAY_URL',
        required: true,
        description: 'where charges go',
        expected: 'a URL',
        example: 'http://127.0.0.1:8080',
      },
    ]);
  });

  it('refuses to document a variable declared without envVar', () => {
    expect(() => describeEnv(serviceEnv.extend({ UNDOCUMENTED: z.string() }))).toThrow(/UNDOCUMENTED/);
  });
});

describe('ENV_VARIABLES', () => {
  it('lists the shared variables in table order with required flags and defaults derived from the schema', () => {
    expect(ENV_VARIABLES.map(({ name, required, default: fallback }) => [name, required, fallback])).toEqual([
      ['SERVICE_NAME', true, undefined],
      ['DATABASE_URL', true, undefined],
      ['KAFKA_BROKERS', true, undefined],
      ['KAFKA_TOPIC_PREFIX', false, ''],
      ['HTTP_PORT', false, '3000'],
      ['LOG_LEVEL', false, 'info'],
      ['LOG_FORMAT', false, 'json'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', false, undefined],
      ['OUTBOX_RELAY', false, 'inprocess'],
      ['OUTBOX_RELAY_BATCH_SIZE', false, '500'],
      ['OUTBOX_RELAY_COMPRESSION', false, 'none'],
      ['OUTBOX_RELAY_POLL_INTERVAL_MS', false, '1000'],
      ['OUTBOX_RETENTION_HOURS', false, '24'],
      ['OUTBOX_RELAY_MAX_BATCH_BYTES', false, '1000000'],
      ['OUTBOX_RELAY_SESSION_TIMEOUT_MS', false, '10000'],
      ['OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND', false, undefined],
      ['KAFKA_TOPIC_RETENTION_HOURS', false, '720'],
      ['KAFKA_TOPIC_REPLICATION_FACTOR', false, undefined],
      ['INBOX_RETENTION_HOURS', false, '744'],
      ['IDEMPOTENCY_KEY_TTL_HOURS', false, '24'],
      ['PURGE_INTERVAL_MS', false, '60000'],
      ['PURGE_BATCH_SIZE', false, '1000'],
      ['CONSUMER_MAX_ATTEMPTS', false, '5'],
      ['CONSUMER_RETRY_BACKOFF_MS', false, '200'],
      ['CONSUMER_FAULT_HOLD_AFTER_COMMIT', false, undefined],
      ['METRICS_PORT', false, undefined],
      ['SAGA_STEP_TIMEOUT_MS', false, '5000'],
      ['SAGA_STEP_MAX_ATTEMPTS', false, '3'],
      ['SAGA_COMPENSATION_MAX_ATTEMPTS', false, '5'],
      ['SAGA_COMPENSATION_BACKOFF_MS', false, '1000'],
      ['ORDER_MAX_SAGAS_IN_FLIGHT', false, '2000'],
      ['ORDER_MAX_UNPUBLISHED_OUTBOX', false, '5000'],
      ['ADMIN_TOKEN', false, undefined],
    ]);
  });

  it('gives every variable an example that the schema itself accepts', () => {
    const env = Object.fromEntries(ENV_VARIABLES.map((variable) => [variable.name, variable.example]));
    expect(() => loadConfig(env)).not.toThrow();
  });
});
