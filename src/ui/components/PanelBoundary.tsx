/**
 * A render error stays in its panel: the panel shows what failed, with *Try again* and, where
 * runs are on show, *Remove* for each, and the rest of the page keeps working. React has no
 * hook for this; an error boundary must be a class.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** What the panel is, for the message ("the comparison"). */
  name: string;
  /** Runs the panel shows, each offered for removal when the panel fails. */
  runs?: { id: string; name: string }[];
  onRemoveRun?: (id: string) => void;
  children: ReactNode;
}

interface State {
  error: Error | null;
}

export class PanelBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`${this.props.name} failed to render:`, error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    const { name, runs = [], onRemoveRun } = this.props;
    return (
      <div className="panel-error" role="alert" data-testid="panel-error">
        <p><b>{name[0].toUpperCase() + name.slice(1)} could not be shown:</b> {error.message}</p>
        <div className="row">
          <button type="button" onClick={() => this.setState({ error: null })}>Try again</button>
          <button type="button" onClick={() => location.reload()}>Reload the page</button>
          {onRemoveRun && runs.map((r) => (
            <button type="button" key={r.id} className="clip" title={r.name}
              onClick={() => { onRemoveRun(r.id); this.setState({ error: null }); }}>Remove run “{r.name}”</button>
          ))}
        </div>
      </div>
    );
  }
}
