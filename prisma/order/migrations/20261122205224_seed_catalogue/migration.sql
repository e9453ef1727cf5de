-- Reference data the README's examples and the failure drills rely on: the order service's copy
-- of the catalogue prices (inventory holds the stock).
INSERT INTO "product" ("sku", "name", "price") VALUES
  ('widget', 'Widget', 1000),
  ('gadget', 'Gadget', 2500),
  ('last-one', 'The last one', 10000)
ON CONFLICT ("sku") DO NOTHING;
