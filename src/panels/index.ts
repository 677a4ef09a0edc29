export {
  ViewPanels,
  type CommandRequestEvent,
  type ExportedEvent,
  type ExportedImage,
  type LayerSelectedEvent,
  type RenderedEvent,
  type WebviewCommand,
} from './view-panels';
export { registerPanelSerializers } from './serializers';
export { emptyViewState, isEmptyViewState, reduceViewState } from './reduce-view-state';
export { isPersistedWebviewState, type PersistedWebviewState } from './persisted-state';
export { VIEWS, VIEW_KINDS, isViewKind, type ViewDescriptor } from './views';
export type { PanelLog } from './view-panel';
