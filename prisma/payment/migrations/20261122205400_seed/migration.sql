-- Customers every environment starts with: alice can pay for anything, bob only up to 50.00, so
-- a scenario can be declined for credit without inventing a customer.
-- ON CONFLICT DO NOTHING: a customer already there (edited by hand, partly spent) is left alone.
INSERT INTO "customer" ("id", "name", "credit_limit", "available_credit") VALUES
    ('alice', 'Alice', 100000000, 100000000),
    ('bob', 'Bob', 5000, 5000)
ON CONFLICT ("id") DO NOTHING;
