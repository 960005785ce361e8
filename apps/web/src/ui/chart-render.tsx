import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatTick, type AxisModel, type ChartModel, type SeriesModel } from './chart-model.js';

// This module is loaded on its own (see ./Chart.tsx): uPlot and its stylesheet stay out of the console's main chunk.

const HEIGHT = 220;
const FONT = '12px system-ui, sans-serif';
const LABEL_FONT = '600 12px system-ui, sans-serif';
const DARK = '(prefers-color-scheme: dark)';

/** The colours of the page's scheme, read from its CSS custom properties (they change with light and dark). */
type Palette = (name: string) => string;

function paletteOf(el: Element): Palette {
  const style = getComputedStyle(el);
  return (name) => style.getPropertyValue(name).trim() || '#888';
}

/** Whether the page is in its dark scheme, kept current: the chart is drawn again in the other colours. */
function useDarkScheme(): boolean {
  const [dark, setDark] = useState(() => window.matchMedia(DARK).matches);
  useEffect(() => {
    const mq = window.matchMedia(DARK);
    const on = (): void => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return dark;
}

/**
 * The data as uPlot takes it: x at the middle of each bucket (bars fill their bucket, lines pass through its middle);
 * stacked series summed from the bottom and listed from the top down (each bar is drawn over the taller one before
 * it); values below 1 lifted to 1 on a log scale.
 */
function dataOf(model: ChartModel): { data: uPlot.AlignedData; order: SeriesModel[] } {
  const x = model.x.map((t) => t + model.bucketSeconds / 2);
  if (model.stacked) {
    const sums = model.x.map(() => 0);
    const stacked = model.series.map((s) => s.values.map((v, i) => (sums[i] = (sums[i] ?? 0) + (v ?? 0))));
    return { data: [x, ...stacked.reverse()], order: [...model.series].reverse() };
  }
  const lifted = model.series.map((s) =>
    model.axes[s.axis ?? 0]?.log ? s.values.map((v) => (v === null ? null : Math.max(v, 1))) : s.values,
  );
  return { data: [x, ...lifted], order: model.series };
}

const bars = uPlot.paths.bars?.({ size: [0.8, 48], gap: 1 });
const steps = uPlot.paths.stepped?.({ align: 1 });

function seriesOf(model: ChartModel, s: SeriesModel, color: Palette): uPlot.Series {
  const c = color(s.color);
  const common: uPlot.Series = { label: s.label, stroke: c, scale: s.axis === 1 ? 'y2' : 'y', spanGaps: false };
  if (s.kind === 'bar') return { ...common, fill: c, width: 0, paths: bars, points: { show: false } };
  return {
    ...common,
    width: 2,
    ...(s.dash ? { dash: [6, 4] } : {}),
    ...(s.kind === 'step' ? { paths: steps } : {}),
    points: { show: model.x.length <= 31, size: 5, fill: c },
  };
}

let measure: CanvasRenderingContext2D | null = null;
/** The width of an axis: its widest value, the tick and the gap. */
function axisSize(_u: uPlot, values: string[] | null): number {
  measure ??= document.createElement('canvas').getContext('2d');
  if (!measure || !values) return 40;
  measure.font = FONT;
  return Math.ceil(Math.max(0, ...values.map((v) => measure?.measureText(v).width ?? 0))) + 14;
}

function yAxisOf(a: AxisModel, side: 1 | 3, color: Palette): uPlot.Axis {
  return {
    scale: side === 3 ? 'y' : 'y2',
    side,
    label: a.label,
    labelFont: LABEL_FONT,
    labelSize: 20,
    labelGap: 2,
    font: FONT,
    stroke: color('--muted'),
    size: axisSize,
    gap: 4,
    grid: { show: side === 3, stroke: color('--border'), width: 1 },
    ticks: { show: false },
    ...(a.unit === 'count' || a.unit === 'tokens' ? { incrs: INTEGER_INCRS } : {}),
    // A log axis leaves out (null) the splits it has no room to name.
    values: (_u, splits) => splits.map((v) => (typeof v === 'number' ? formatTick(v, a.unit) : '')),
  };
}

const INTEGER_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8];

function scaleOf(a: AxisModel): uPlot.Scale {
  if (a.log) return { distr: 3, log: 10 };
  // From zero: a bar's height is its value.
  return { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] };
}

function optionsOf(model: ChartModel, width: number, color: Palette, order: SeriesModel[]): uPlot.Options {
  const [left, right] = model.axes;
  const half = model.bucketSeconds / 2;
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { drag: { x: false, y: false, setScale: false } },
    scales: {
      x: { time: true, range: (_u, min, max) => [min - half, max + half] },
      y: scaleOf(left),
      ...(right ? { y2: scaleOf(right) } : {}),
    },
    axes: [
      {
        font: FONT,
        stroke: color('--muted'),
        grid: { stroke: color('--border'), width: 1 },
        ticks: { stroke: color('--border'), width: 1, size: 4 },
      },
      yAxisOf(left, 3, color),
      ...(right ? [yAxisOf(right, 1, color)] : []),
    ],
    series: [{}, ...order.map((s) => seriesOf(model, s, color))],
  };
}

/** Draws `model` with uPlot as wide as its box, again when the box is resized or the colour scheme changes. */
export default function ChartCanvas({ model, onHover }: { model: ChartModel; onHover: (idx: number | null) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const hover = useRef(onHover);
  hover.current = onHover;
  const dark = useDarkScheme();

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const { data, order } = dataOf(model);
    const opts = optionsOf(model, Math.max(1, Math.floor(el.clientWidth)), paletteOf(el), order);
    let draws = 0;
    opts.hooks = {
      setCursor: [(u) => hover.current(u.cursor.idx ?? null)],
      draw: [() => (el.dataset['draws'] = String(++draws))],
    };
    const u = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => {
      const w = Math.floor(el.clientWidth);
      if (w > 0 && w !== u.width) u.setSize({ width: w, height: HEIGHT });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      hover.current(null);
    };
  }, [model, dark]);

  return <div ref={box} className="chart-canvas" data-scheme={dark ? 'dark' : 'light'} />;
}
