-- Sagas that reached COMPENSATION_FAILED before it stopped being an end kept no deadline, so they
-- would never re-send their pending compensations on their own. Give each one a due deadline: the
-- deadline timer resumes re-sending them (with the capped back-off) at its next sweep.
UPDATE "saga"
   SET "deadline_at" = now()
 WHERE "status" = 'COMPENSATION_FAILED'
   AND cardinality("pending") > 0
   AND "deadline_at" IS NULL;
