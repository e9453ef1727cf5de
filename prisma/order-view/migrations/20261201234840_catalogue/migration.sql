-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "projection" (
    "name" TEXT NOT NULL,
    "live_generation" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projection_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "projection_generation" (
    "name" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "switched_at" TIMESTAMPTZ(3),

    CONSTRAINT "projection_generation_pkey" PRIMARY KEY ("name","generation")
);

-- CreateTable
CREATE TABLE "projection_checkpoint" (
    "name" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "next_offset" BIGINT NOT NULL,
    "last_message_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projection_checkpoint_pkey" PRIMARY KEY ("name","generation","topic","partition")
);
