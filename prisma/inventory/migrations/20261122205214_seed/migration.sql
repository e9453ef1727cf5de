-- Written by hand: the catalogue every inventory database starts with, local or scratch, so tests
-- and demos place orders against the same products. ON CONFLICT DO NOTHING: stock already moved
-- by orders is never reset. `last-one` has a single unit, for the out-of-stock and
-- two-orders-race scenarios.
INSERT INTO "product" ("sku", "name", "price", "on_hand") VALUES
  ('widget', 'Widget', 1000, 100000),
  ('gadget', 'Gadget', 2500, 10000),
  ('last-one', 'The last one', 10000, 1)
ON CONFLICT ("sku") DO NOTHING;
