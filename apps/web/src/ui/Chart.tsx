import { Component, lazy, Suspense, useState, type ReactNode } from 'react';
import { formatValue, type ChartModel, type SeriesModel } from './chart-model.js';
import { Empty } from './feedback.js';
import { ScrollBox } from './ScrollBox.js';
import '../activity.css';

// uPlot and its stylesheet are a chunk of their own, fetched with the first chart shown: the console's shell does not
// carry them. Until the chunk is there the chart's box keeps its size; the legend and the table are already shown.
const ChartCanvas = lazy(() => import('./chart-render.js'));

/** If the chunk cannot be loaded (say the daemon was upgraded under an open tab), the figures stay in the table. */
class NoDrawingOnError extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }
  override render(): ReactNode {
    return this.state.failed ? (
      <p className="chart-missing">The chart could not be drawn; its figures are in the table below.</p>
    ) : (
      this.props.children
    );
  }
}

/**
 * One chart as a figure: its heading and the totals in words (the caption), the drawing (role="img", named by its
 * description), a legend with each series' value (the range's, or the bucket pointed at), and the figures as a table.
 */
export function Chart({ model }: { model: ChartModel }) {
  const [hover, setHover] = useState<number | null>(null);
  return (
    <figure className="chart" data-chart={model.id} data-buckets={model.x.length} data-empty={model.empty !== null}>
      <figcaption>
        <h3>{model.title}</h3>
        <p className="chart-summary">{model.summary}</p>
      </figcaption>
      {model.empty !== null ? (
        <Empty>{model.empty}</Empty>
      ) : (
        <>
          <div className="chart-plot" role="img" aria-label={model.description}>
            <NoDrawingOnError>
              <Suspense fallback={<div className="chart-loading" />}>
                <ChartCanvas model={model} onHover={setHover} />
              </Suspense>
            </NoDrawingOnError>
          </div>
          <Legend model={model} idx={hover} />
          <ChartTable model={model} />
        </>
      )}
    </figure>
  );
}

function unitOf(model: ChartModel, s: SeriesModel) {
  return model.axes[s.axis ?? 0]?.unit ?? 'count';
}

function Legend({ model, idx }: { model: ChartModel; idx: number | null }) {
  const at = idx === null ? null : (model.xLabels[idx] ?? null);
  return (
    <div className="chart-legend">
      <p className="chart-legend-at">{at === null ? `Totals, ${model.totalLabel}` : at}</p>
      <ul>
        {model.series.map((s) => (
          <li key={s.key} data-series={s.key}>
            <span className={`swatch swatch-${s.kind}${s.dash ? ' swatch-dash' : ''}`} data-color={s.color} />
            <span className="series-label">{s.label}</span>{' '}
            <span className="series-value">
              {formatValue(at === null ? s.total : s.values[idx ?? 0], unitOf(model, s))}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function ChartTable({ model }: { model: ChartModel }) {
  return (
    <details className="chart-data">
      <summary>Figures as a table</summary>
      <ScrollBox label={`${model.title}: figures`}>
        <table>
          <thead>
            <tr>
              <th scope="col">{model.bucketSeconds >= 86_400 ? 'day (UTC)' : 'from'}</th>
              {model.series.map((s) => (
                <th scope="col" key={s.key}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {model.xLabels.map((label, i) => (
              <tr key={model.x[i]}>
                <th scope="row">{label}</th>
                {model.series.map((s) => (
                  <td key={s.key}>{formatValue(s.values[i], unitOf(model, s))}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    </details>
  );
}
