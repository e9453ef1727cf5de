-- CreateEnum
CREATE TYPE "shipment_status" AS ENUM ('CREATED', 'REFUSED', 'CANCELLED');

-- CreateTable
CREATE TABLE "shipment" (
    "order_id" UUID NOT NULL,
    "shipment_id" UUID,
    "status" "shipment_status" NOT NULL,
    "country" CHAR(2),
    "city" TEXT,
    "line1" TEXT,
    "items" JSONB,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "shipment_pkey" PRIMARY KEY ("order_id")
);

-- CreateTable
CREATE TABLE "unserved_country" (
    "code" CHAR(2) NOT NULL,

    CONSTRAINT "unserved_country_pkey" PRIMARY KEY ("code")
);

-- CreateIndex
CREATE UNIQUE INDEX "shipment_shipment_id_key" ON "shipment"("shipment_id");

-- Written by hand: Prisma's schema cannot express CHECK constraints. They make the states the
-- handlers rely on the only states a row can be in, whatever code writes it.
-- A created shipment has an id; a refused one never had one and says why.
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_created_has_id"
  CHECK (status <> 'CREATED' OR shipment_id IS NOT NULL);
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_refused_has_reason_and_no_id"
  CHECK (status <> 'REFUSED' OR (shipment_id IS NULL AND reason IS NOT NULL));
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_cancelled_has_reason"
  CHECK (status <> 'CANCELLED' OR reason IS NOT NULL);
-- Address and items come together from CreateShipment; only a tombstone (a CancelShipment for an
-- order never seen) has none of them.
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_address_all_or_none"
  CHECK (num_nulls(country, city, line1, items) IN (0, 4));
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_only_tombstone_lacks_address"
  CHECK (status = 'CANCELLED' OR items IS NOT NULL);
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_items_non_empty_array"
  CHECK (items IS NULL OR (jsonb_typeof(items) = 'array' AND jsonb_array_length(items) > 0));
ALTER TABLE "unserved_country" ADD CONSTRAINT "unserved_country_code_is_alpha2"
  CHECK (code ~ '^[A-Z]{2}$');
