/** The view database's node-postgres pool (queries and the projection runner share it). */
export const PG_POOL = Symbol('PgPool');
/** The kafkajs client the projections consume with. */
export const KAFKA = Symbol('Kafka');
