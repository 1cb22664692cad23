/** Rewrites the README's action table from the action table in src/image/actions.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { actionTableMarkdown } from '../src/image/actions';

export const README = path.join(__dirname, '../README.md');
export const TABLE_PATTERN = /(<!-- actions:begin -->\n)[\s\S]*?(<!-- actions:end -->)/;

export function withActionTable(readme: string): string {
  return readme.replace(TABLE_PATTERN, (_m, begin: string, end: string) => `${begin}${actionTableMarkdown()}\n${end}`);
}

if (require.main === module) writeFileSync(README, withActionTable(readFileSync(README, 'utf8')));
