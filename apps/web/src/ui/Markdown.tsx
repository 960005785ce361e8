import { Component, lazy, Suspense, useId, useMemo, useState, type ReactNode } from 'react';
import { collapsePreview } from './markdown-policy.js';

// The renderer (react-markdown, GFM, highlight.js grammars) is a chunk of its own, fetched from the daemon with
// the first reply shown: the console's shell does not wait for it. Until it is there, the reply shows as text.
const MarkdownBody = lazy(() => import('./markdown-render.js'));

/** If the chunk cannot be loaded (say the daemon was upgraded under an open tab), the reply stays text. */
class PlainOnError extends Component<{ fallback: ReactNode; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }
  override render(): ReactNode {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}

/** A model's reply rendered as Markdown (see ./markdown-render.tsx); a long one starts collapsed behind "Show all". */
export function Markdown({ text, className }: { text: string; className?: string }) {
  const preview = useMemo(() => collapsePreview(text), [text]);
  const [expanded, setExpanded] = useState(false);
  const bodyId = useId();
  const collapsed = preview !== null && !expanded;
  const shown = collapsed ? preview.text : text;
  const plain = <pre className="md-plain">{shown}</pre>;
  return (
    <div className={className ? `md ${className}` : 'md'}>
      <div id={bodyId} className="md-body" data-collapsed={collapsed || undefined}>
        <PlainOnError fallback={plain}>
          <Suspense fallback={plain}>
            <MarkdownBody text={shown} />
          </Suspense>
        </PlainOnError>
      </div>
      {preview && (
        <button
          type="button"
          className="btn small md-toggle"
          aria-expanded={expanded}
          aria-controls={bodyId}
          onClick={() => setExpanded((e) => !e)}
        >
          {expanded ? 'Show less' : `Show all (${preview.totalLines} lines)`}
        </button>
      )}
    </div>
  );
}
