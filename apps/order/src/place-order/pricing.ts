export interface PricedLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export type Pricing =
  | { kind: 'priced'; lines: PricedLine[]; total: number }
  | { kind: 'unknown-skus'; skus: string[] }
  | { kind: 'total-too-large'; total: number };

// order.total is a 4-byte integer column (minor units): about 21 million in a 2-decimal currency.
export const MAX_TOTAL = 2 ** 31 - 1;

/**
 * Prices order lines from the catalogue (`prices`: sku → unit price in minor units). Every unknown
 * sku is named, so the client can fix them all at once.
 */
export function priceOrder(
  items: readonly { sku: string; quantity: number }[],
  prices: ReadonlyMap<string, number>,
): Pricing {
  const unknown = items.filter((item) => !prices.has(item.sku)).map((item) => item.sku);
  if (unknown.length > 0) return { kind: 'unknown-skus', skus: unknown };
  const lines = items.map((item) => ({
    sku: item.sku,
    quantity: item.quantity,
    unitPrice: prices.get(item.sku)!,
  }));
  const total = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  if (total > MAX_TOTAL) return { kind: 'total-too-large', total };
  return { kind: 'priced', lines, total };
}
