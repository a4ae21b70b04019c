/**
 * Claims checked inside notebooks: a notebook states a finding, then `claim()` asserts it, so
 * a regression makes the cell throw and the nbval run fail.
 */
import { checkBoolean, checkString } from '../validate';

export class ClaimError extends Error {
  override name = 'ClaimError';
}

/**
 * Assert `condition`; on success print "✓ <statement>" (so the reader sees what was checked),
 * on failure throw a ClaimError with the statement and the optional detail (the numbers).
 */
export function claim(condition: boolean, statement: string, detail = ''): void {
  checkString('claim(statement)', statement);
  checkBoolean('claim(condition)', condition);
  if (!condition) throw new ClaimError(`claim failed: ${statement}${detail ? ` (${detail})` : ''}`);
  console.log(`✓ ${statement}`);
}
