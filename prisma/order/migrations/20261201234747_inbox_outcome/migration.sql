-- AlterTable
ALTER TABLE "inbox" ADD COLUMN     "outcome" TEXT NOT NULL DEFAULT 'applied';
