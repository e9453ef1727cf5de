-- Written by hand: reference data every shipping database needs, local or scratch, so it lives in a
-- migration rather than a seed script someone may forget. ON CONFLICT keeps it idempotent where an
-- operator already added the row.
-- Shipping serves every country except those listed here; AQ is the one unserved country the
-- saga's refusal path (ShipmentRefused 'country_not_served') is exercised with.
INSERT INTO "unserved_country" (code) VALUES ('AQ') ON CONFLICT DO NOTHING;
