-- CreateEnum
CREATE TYPE "ReservationStatus" AS ENUM ('RESERVED', 'REJECTED', 'RELEASED', 'COMMITTED');

-- CreateTable
CREATE TABLE "product" (
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "price" INTEGER NOT NULL,
    "on_hand" INTEGER NOT NULL,
    "reserved" INTEGER NOT NULL DEFAULT 0,
    "shipped" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "product_pkey" PRIMARY KEY ("sku")
);

-- CreateTable
CREATE TABLE "reservation" (
    "order_id" UUID NOT NULL,
    "status" "ReservationStatus" NOT NULL,
    "items" JSONB NOT NULL,
    "reason" TEXT,
    "sku" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reservation_pkey" PRIMARY KEY ("order_id")
);

-- Written by hand: Prisma's schema cannot express CHECK constraints, so later diffs do not see
-- these and never drop them. They are the last line of defence for the stock invariant
-- (initial stock = on_hand + reserved + shipped): a bug that would oversell or release twice
-- fails its transaction instead of writing a negative bucket.
ALTER TABLE "product"
  ADD CONSTRAINT "product_price_positive" CHECK ("price" > 0),
  ADD CONSTRAINT "product_on_hand_not_negative" CHECK ("on_hand" >= 0),
  ADD CONSTRAINT "product_reserved_not_negative" CHECK ("reserved" >= 0),
  ADD CONSTRAINT "product_shipped_not_negative" CHECK ("shipped" >= 0);

-- A rejection always says why and which line failed, so a repeated command re-emits the same
-- StockUnavailable; nothing else carries a reason.
ALTER TABLE "reservation"
  ADD CONSTRAINT "reservation_rejection_explained"
    CHECK (("status" = 'REJECTED') = ("reason" IS NOT NULL AND "sku" IS NOT NULL)),
  ADD CONSTRAINT "reservation_items_array" CHECK (jsonb_typeof("items") = 'array');
