import type { z } from 'zod';

/** One thing wrong with a message: where (a field path such as `items[0].quantity`, or a header
 * such as `header "type"`) and what. An empty `path` means the message as a whole. */
export interface ContractIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A message that breaks its contract: unknown type or version, missing header, invalid JSON, or
 * a payload that fails its schema. Consumers dead-letter it (retrying cannot fix it); producers
 * must not publish it.
 */
export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';

  /**
   * @param context - what was being checked, e.g. `PaymentCharged v1` or `Kafka message`.
   * @param issues - every problem found, not only the first, so one dead letter tells the whole story.
   */
  constructor(
    readonly context: string,
    readonly issues: readonly ContractIssue[],
  ) {
    super(`${context}: ${issues.map(formatIssue).join('; ')}`);
  }
}

/** Renders an issue as `path: message`, or just the message when it concerns the whole message. */
export function formatIssue(issue: ContractIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/** Renders a path as people write it in code: `items[0].quantity`, `address.country`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    if (/^[A-Za-z_$][\w$]*$/.test(name)) return out === '' ? name : `${out}.${name}`;
    return `${out}[${JSON.stringify(name)}]`;
  }, '');
}

/**
 * Turns zod's issues into contract issues. An unknown field is reported at its own path
 * (`items[0].colour: unknown field`) rather than zod's "unrecognized key at items[0]", so the
 * path alone says which field a producer invented.
 */
export function issuesFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): ContractIssue[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: 'unknown field' }));
    }
    return [{ path: formatPath(path), message: issue.message }];
  });
}
