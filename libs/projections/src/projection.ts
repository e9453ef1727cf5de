import { messageSpecs, type Envelope, type MessageSpec, type MessageType, type TopicKey } from '@order-saga/contracts';

/**
 * One consumed message as a projection sees it: the validated envelope and where it was read.
 * `topicKey` is the un-prefixed topic (`payment.events`), so a view does not depend on the
 * environment's topic prefix.
 */
export interface ProjectedMessage<T extends MessageType = MessageType> {
  readonly envelope: Envelope<T>;
  readonly topicKey: TopicKey;
  readonly partition: number;
  /** Kafka offsets are 64-bit: kept as the decimal string kafkajs gives. */
  readonly offset: string;
  /** The broker's timestamp of the record (ISO 8601). */
  readonly timestamp: string;
}

/** SQL types a projection column may have. */
export type ColumnType = 'text' | 'integer' | 'bigint' | 'boolean' | 'timestamptz' | 'text[]';

/** A column of the view's table, extracted from the view so that queries can filter and sort by it. */
export interface ColumnSpec<V> {
  readonly type: ColumnType;
  /** Pure: the column's value for a view (null for SQL NULL). */
  readonly value: (view: V) => string | number | boolean | readonly string[] | null;
}

/** An index of the view's table: its column expressions (`placed_at DESC`), or a GIN index on one array column. */
export type IndexSpec = { readonly on: readonly string[]; readonly using?: 'btree' } | { readonly on: readonly [string]; readonly using: 'gin' };

/**
 * A projection: the message types it reads, the key of the view each message updates, and one pure
 * `evolve`. The runner owns everything else (positions, transactions, idempotency, rebuilds), and
 * derives the view's table from `columns` and `indexes`.
 *
 * `evolve` sees the messages of one key in per-partition order, but messages of one key that travel
 * on different topics arrive in any relative order (a `PaymentCharged` may come before its
 * `OrderPlaced`): it must give the same view for any such interleaving.
 */
export interface Projection<V, T extends MessageType = MessageType> {
  /** kebab-case, unique: `order-summary`. The tables are named after it. */
  readonly name: string;
  readonly reads: readonly T[];
  readonly key: (message: ProjectedMessage<T>) => string;
  readonly evolve: (view: V | null, message: ProjectedMessage<T>) => V;
  /** Columns beside the `key` and the `doc` (the whole view as JSON). Names are snake_case. */
  readonly columns: Readonly<Record<string, ColumnSpec<V>>>;
  readonly indexes?: readonly IndexSpec[];
}

/** A projection of any view type, as the runner and the tools handle it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any, any>;

const SNAKE = /^[a-z][a-z0-9_]*$/;
const KEBAB = /^[a-z][a-z0-9-]*$/;

/**
 * Declares a projection, checking what the database will need from it: a kebab-case name,
 * snake_case columns, registered message types, and indexes on declared columns only.
 */
export function projection<V, const T extends MessageType>(spec: Projection<V, T>): Projection<V, T> {
  if (!KEBAB.test(spec.name)) throw new Error(`projection name "${spec.name}" must be kebab-case`);
  const columns = new Set(['key', ...Object.keys(spec.columns)]);
  for (const column of Object.keys(spec.columns)) {
    if (!SNAKE.test(column) || column === 'key' || column === 'doc') {
      throw new Error(`projection ${spec.name}: column "${column}" must be snake_case and not key or doc`);
    }
  }
  for (const index of spec.indexes ?? []) {
    for (const part of index.on) {
      const [column, direction, ...rest] = part.split(' ');
      if (!column || !columns.has(column) || rest.length > 0 || (direction && !/^(ASC|DESC)$/.test(direction))) {
        throw new Error(`projection ${spec.name}: index part "${part}" must be "<column> [ASC|DESC]" of a declared column`);
      }
    }
  }
  for (const type of spec.reads) specOf(type);
  return Object.freeze(spec);
}

function specOf(type: string): MessageSpec {
  const spec = (messageSpecs as readonly MessageSpec[]).find((s) => s.type === type);
  if (!spec) throw new Error(`unknown message type "${type}"`);
  return spec;
}

/** The un-prefixed topics a projection must consume to see every message type it reads. */
export function topicKeysOf(projection: AnyProjection): TopicKey[] {
  return [...new Set(projection.reads.map((type) => specOf(type).topic))].sort();
}

/** The snake_case base of a projection's SQL names: `order-summary` → `order_summary`. */
export function sqlName(projection: Pick<AnyProjection, 'name'>): string {
  return projection.name.replace(/-/g, '_');
}

/** The table holding one generation of a projection: `order_summary_g3`. */
export function generationTable(projection: Pick<AnyProjection, 'name'>, generation: number): string {
  return `${sqlName(projection)}_g${generation}`;
}
