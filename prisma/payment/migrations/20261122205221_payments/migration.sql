-- CreateEnum
CREATE TYPE "payment_status" AS ENUM ('CHARGED', 'DECLINED', 'REFUNDED', 'VOIDED');

-- CreateTable
CREATE TABLE "customer" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "credit_limit" INTEGER NOT NULL,
    "available_credit" INTEGER NOT NULL,

    CONSTRAINT "customer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment" (
    "order_id" UUID NOT NULL,
    "payment_id" UUID,
    "customer_id" TEXT,
    "amount" INTEGER NOT NULL,
    "status" "payment_status" NOT NULL,
    "reason" TEXT,
    "charged_at" TIMESTAMPTZ(3),
    "refunded_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_pkey" PRIMARY KEY ("order_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "payment_payment_id_key" ON "payment"("payment_id");

-- Written by hand: Prisma's schema language has no CHECK constraints.
-- Credit can neither go below zero (a charge larger than what is left) nor above the limit (a
-- refund of something never taken).
ALTER TABLE "customer" ADD CONSTRAINT "customer_credit_limit_nonnegative" CHECK ("credit_limit" >= 0);
ALTER TABLE "customer" ADD CONSTRAINT "customer_available_credit_within_limit"
    CHECK ("available_credit" >= 0 AND "available_credit" <= "credit_limit");

ALTER TABLE "payment" ADD CONSTRAINT "payment_amount_nonnegative" CHECK ("amount" >= 0);
-- Money moved exactly when a payment id exists: captured and refunded rows carry one, declined
-- rows and tombstones never do, so sums over payment ids are sums of money moved.
ALTER TABLE "payment" ADD CONSTRAINT "payment_id_iff_charged"
    CHECK (("payment_id" IS NOT NULL) = ("status" IN ('CHARGED', 'REFUNDED')));
ALTER TABLE "payment" ADD CONSTRAINT "payment_charged_at_iff_charged"
    CHECK (("charged_at" IS NOT NULL) = ("status" IN ('CHARGED', 'REFUNDED')));
ALTER TABLE "payment" ADD CONSTRAINT "payment_charge_is_positive"
    CHECK ("status" NOT IN ('CHARGED', 'REFUNDED') OR "amount" > 0);
ALTER TABLE "payment" ADD CONSTRAINT "payment_refunded_at_iff_refunded"
    CHECK (("refunded_at" IS NOT NULL) = ("status" = 'REFUNDED'));
ALTER TABLE "payment" ADD CONSTRAINT "payment_declined_has_reason"
    CHECK ("status" <> 'DECLINED' OR "reason" IS NOT NULL);
ALTER TABLE "payment" ADD CONSTRAINT "payment_tombstone_holds_nothing"
    CHECK ("status" <> 'VOIDED' OR "amount" = 0);
