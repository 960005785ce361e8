/** Milliseconds since the timer started, from a monotonic clock (immune to wall-clock jumps). */
export function startTimer(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e6;
}
