import { describe, expect, it } from 'vitest';
import { ComponentHealth, statusDocument, worstState } from '../src/status.js';

function clock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (s: number) => {
      t += s * 1000;
    },
    iso: () => new Date(t).toISOString(),
  };
}

describe('ComponentHealth', () => {
  it('starts every component down at construction time', () => {
    const c = clock();
    const h = new ComponentHealth({ now: c.now });
    const snap = h.snapshot();
    expect(snap.state).toBe('down');
    expect(Object.keys(snap.components)).toEqual(['gateway', 'queue', 'executor', 'scheduler', 'storage']);
    expect(snap.components.queue).toEqual({ state: 'down', since: c.iso(), last_error: null, details: {} });
  });

  it('moves since only when the state changes and keeps the last error after recovery', () => {
    const c = clock();
    const h = new ComponentHealth({ now: c.now, initial: 'ok' });
    const t0 = c.iso();
    c.advance(10);
    h.set('executor', 'ok');
    expect(h.get('executor').since).toBe(t0);
    h.set('executor', 'degraded', new Error('claude: rate limited'));
    const t1 = c.iso();
    expect(h.get('executor')).toMatchObject({ state: 'degraded', since: t1, last_error: { message: 'claude: rate limited', at: t1 } });
    c.advance(5);
    h.set('executor', 'degraded', 'still rate limited');
    const t2 = c.iso();
    expect(h.get('executor')).toMatchObject({ since: t1, last_error: { message: 'still rate limited', at: t2 } });
    c.advance(5);
    h.set('executor', 'ok');
    expect(h.get('executor')).toMatchObject({ state: 'ok', since: c.iso(), last_error: { message: 'still rate limited', at: t2 } });
  });

  it('reports the worst component as the overall state', () => {
    const h = new ComponentHealth({ initial: 'ok' });
    expect(h.state()).toBe('ok');
    h.set('scheduler', 'degraded');
    expect(h.state()).toBe('degraded');
    h.set('storage', 'down');
    expect(h.snapshot().state).toBe('down');
    h.set('storage', 'ok');
    expect(h.state()).toBe('degraded');
    expect(worstState([])).toBe('ok');
  });

  it('hands out copies that later changes do not touch', () => {
    const h = new ComponentHealth({ initial: 'ok' });
    h.setDetails('queue', { depth: { interactive: 1, background: 0 } });
    const before = h.snapshot();
    h.setDetails('queue', { depth: { interactive: 5, background: 0 } });
    h.set('queue', 'down', new Error('x'));
    expect(before.components.queue).toMatchObject({ state: 'ok', last_error: null, details: { depth: { interactive: 1 } } });
  });

  it('builds the status document with uptime', () => {
    const c = clock();
    const startedAt = c.now();
    const h = new ComponentHealth({ now: c.now, initial: 'ok' });
    c.advance(90.7);
    const doc = statusDocument({ version: '0.1.0', startedAt, now: c.now(), health: h });
    expect(doc).toMatchObject({ version: '0.1.0', started_at: startedAt.toISOString(), uptime_s: 90, state: 'ok' });
    expect(doc.components.storage.state).toBe('ok');
  });
});
