import type { CommandFactory } from './context';

/** Shows a layer in the statistics view (the tree view's items run this). */
export const selectLayer: CommandFactory = (ctx) => async (layer?: unknown) => {
  if (typeof layer !== 'string') return undefined;
  ctx.panels.show('statistics');
  ctx.panels.post('statistics', { type: 'selectLayer', layer });
  return layer;
};
