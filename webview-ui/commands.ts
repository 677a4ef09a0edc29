/**
 * The extension commands a view points people to. The titles are the Command Palette entries
 * ("Category: Title", as contributed in package.json); a button in the view asks the host to run
 * the same command.
 */
export const COMMAND_TITLES = {
  train: 'Batchless: Train Short Session',
  inspect: 'Batchless: Inspect Layer Statistics',
  memory: 'Batchless: Show Memory Usage',
  export: 'Batchless: Export Report',
} as const;

export type ViewCommand = keyof typeof COMMAND_TITLES;

/** "Train Short Session", for a button label. */
export function buttonLabel(command: ViewCommand): string {
  return COMMAND_TITLES[command].replace(/^Batchless: /, '');
}
