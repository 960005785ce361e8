import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** One axe finding the bar refuses (serious or critical), with where it is, for a readable failure. */
export interface Finding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * The serious and critical accessibility violations axe-core finds on the page as it is now (WCAG 2.x A/AA rules
 * and axe's best practices). Minor and moderate ones are reported by axe too but are not this gate's bar.
 */
export async function seriousViolations(page: Page): Promise<Finding[]> {
  const r = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
}
