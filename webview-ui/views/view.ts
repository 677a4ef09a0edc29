import type { FromWebview, ToWebview } from '../../src/shared/protocol';
import type { Chart } from '../charts';
import type { Palette } from '../theme';

/** What a view gets from the page shell (main.ts). */
export interface ViewContext {
  readonly root: HTMLElement;
  /** The current theme colours (replaced when the theme changes; the shell then re-renders). */
  palette(): Palette;
  /** Sends a message to the extension. */
  post(message: FromWebview): void;
  /** A change made in the page (a layer picked): folded into the state like a host message. */
  dispatch(message: ToWebview): void;
  /** Charts were updated in place after an increment (the shell re-announces changed series). */
  updated(): void;
}

/** A chart the view can export, with a stable id (`[\w-]+`, used as the PNG's name). */
export interface NamedChart {
  id: string;
  chart: Chart;
}

export interface View<S> {
  /** Replaces the whole page content with this state; charts are created anew. */
  render(state: S): void;
  /**
   * Applies an increment in place; `state` already includes it. Returns false when the view
   * cannot (for example the first point after an empty state) and wants a full render instead.
   */
  apply(message: ToWebview, state: S): boolean;
  /** The charts currently on the page, in reading order. */
  charts(): NamedChart[];
  /** Releases charts and timers before a full render or when the page goes away. */
  destroy(): void;
}
