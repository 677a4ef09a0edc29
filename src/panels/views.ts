import type { ViewKind } from '../shared/protocol';

/** What the editor needs to know about each Batchless view: its panel type, tab title, icon. */
export interface ViewDescriptor {
  readonly view: ViewKind;
  /** `viewType` of the webview panel; package.json activates on `onWebviewPanel:<viewType>`. */
  readonly viewType: string;
  readonly title: string;
  /** File name (without extension) under media/icons/{light,dark}/. */
  readonly icon: string;
}

export const VIEWS: Readonly<Record<ViewKind, ViewDescriptor>> = {
  training: {
    view: 'training',
    viewType: 'batchless.training',
    title: 'Batchless: Training',
    icon: 'training',
  },
  statistics: {
    view: 'statistics',
    viewType: 'batchless.statistics',
    title: 'Batchless: Learned Statistics',
    icon: 'statistics',
  },
  memory: {
    view: 'memory',
    viewType: 'batchless.memory',
    title: 'Batchless: Memory',
    icon: 'memory',
  },
};

export const VIEW_KINDS = Object.keys(VIEWS) as ViewKind[];

export function isViewKind(value: unknown): value is ViewKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(VIEWS, value);
}
