-- AlterTable
ALTER TABLE "outbox" ADD COLUMN     "parked_at" TIMESTAMPTZ(3),
ADD COLUMN     "parked_reason" TEXT;

-- CreateIndex
CREATE INDEX "outbox_parked_idx" ON "outbox"("aggregateid", "seq") WHERE (parked_at IS NOT NULL AND published_at IS NULL);
