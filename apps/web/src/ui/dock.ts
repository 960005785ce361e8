import { useEffect, type RefObject } from 'react';

/**
 * On a phone the tasks pages dock the composer's form at the bottom of the screen (styles.css, position: fixed).
 * While it is docked its height is --dock-height on the root, which keeps the end of the page and anything scrolled
 * or tabbed to (scroll-padding) clear of it; 0 when it is not docked.
 */
export function useDockHeight(form: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    const el = form.current;
    if (!el) return;
    const root = document.documentElement;
    let frame = 0;
    const measure = (): void => {
      const docked = getComputedStyle(el).position === 'fixed';
      root.style.setProperty('--dock-height', docked ? `${Math.ceil(el.getBoundingClientRect().height)}px` : '0px');
    };
    // The route changes the page's class (not the form's size): measure once React has rendered it.
    const later = (): void => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(measure);
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    window.addEventListener('hashchange', later);
    window.addEventListener('resize', later);
    return () => {
      ro.disconnect();
      cancelAnimationFrame(frame);
      window.removeEventListener('hashchange', later);
      window.removeEventListener('resize', later);
      root.style.removeProperty('--dock-height');
    };
  }, [form]);
}

/**
 * While the form is docked, keeps the newest sent message (the list's first child) in sight as it is added and as its
 * answer comes in (it grows; taller than the screen, its start stays in sight), until the owner scrolls or types.
 */
export function useRevealNewest(list: RefObject<HTMLElement | null>, newest: number | undefined): void {
  useEffect(() => {
    const item = list.current?.firstElementChild;
    const docked = getComputedStyle(document.documentElement).getPropertyValue('--dock-height').trim();
    if (newest === undefined || !item || docked === '' || docked === '0px') return;
    const ro = new ResizeObserver(() => item.scrollIntoView({ block: 'nearest' }));
    ro.observe(item);
    const stop = (): void => ro.disconnect();
    const events = ['touchstart', 'wheel', 'keydown'] as const;
    for (const e of events) window.addEventListener(e, stop, { once: true, passive: true });
    return () => {
      stop();
      for (const e of events) window.removeEventListener(e, stop);
    };
  }, [list, newest]);
}
