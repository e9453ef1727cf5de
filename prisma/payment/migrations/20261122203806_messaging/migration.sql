-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "outbox" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "aggregatetype" TEXT NOT NULL,
    "aggregateid" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "topic" TEXT NOT NULL,
    "schema_version" INTEGER NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "causation_id" TEXT,
    "traceparent" TEXT,
    "tracestate" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox" (
    "consumer" TEXT NOT NULL,
    "message_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" BIGINT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_pkey" PRIMARY KEY ("consumer","message_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "outbox_seq_key" ON "outbox"("seq");

-- CreateIndex
CREATE INDEX "outbox_unpublished_idx" ON "outbox"("seq") WHERE (published_at IS NULL);

-- CreateIndex
CREATE INDEX "outbox_published_at_idx" ON "outbox"("published_at") WHERE (published_at IS NOT NULL);

-- Written by hand: Prisma's schema cannot express functions or triggers, so later diffs do not
-- see these and never drop them.
-- The relay LISTENs on 'outbox' and wakes on commit instead of polling. FOR EACH STATEMENT: one
-- notification per inserting statement, and PostgreSQL folds identical notifications raised in
-- one transaction, so a burst of inserts costs the relay one wake-up.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
