-- CreateIndex
CREATE INDEX "saga_unsettled_idx" ON "saga"("status") WHERE (status NOT IN ('CONFIRMED', 'REJECTED', 'CANCELLED'));
