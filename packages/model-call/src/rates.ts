/** Pass-rate arithmetic shared by the router's and the closer's evaluations. */

export interface RateCount {
  total: number;
  passed: number;
  passRate: number;
}

/** `passed / total`, 0 for an empty set. */
export function rate(passed: number, total: number): number {
  return total === 0 ? 0 : passed / total;
}

/** Pass counts and rates per category, in the order categories first appear. */
export function rateByCategory(results: readonly { category: string; passed: boolean }[]): Record<string, RateCount> {
  const byCategory: Record<string, RateCount> = {};
  for (const r of results) {
    const cat = (byCategory[r.category] ??= { total: 0, passed: 0, passRate: 0 });
    cat.total++;
    if (r.passed) cat.passed++;
  }
  for (const cat of Object.values(byCategory)) cat.passRate = rate(cat.passed, cat.total);
  return byCategory;
}
