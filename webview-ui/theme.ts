/**
 * Chart colours come from the editor's theme: VS Code sets `--vscode-*` variables on the page and
 * a `vscode-light | vscode-dark | vscode-high-contrast` class on <body>. Canvas cannot read CSS
 * variables, so the values are read here and charts are rebuilt when the theme changes.
 */

export interface Palette {
  foreground: string;
  background: string;
  border: string;
  red: string;
  blue: string;
  green: string;
  yellow: string;
  orange: string;
  purple: string;
  /** Colours for series that have no fixed meaning, in order of distinctness. */
  series: string[];
  fontFamily: string;
  fontSize: number;
  highContrast: boolean;
}

function cssVariable(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value || fallback;
}

export function readPalette(): Palette {
  const style = getComputedStyle(document.body);
  // Outside the editor (no variables) everything falls back to the text colour: legible, if plain.
  const foreground = cssVariable(style, '--vscode-foreground', style.color);
  const chart = (name: string): string => cssVariable(style, `--vscode-charts-${name}`, foreground);
  const red = chart('red');
  const blue = chart('blue');
  const green = chart('green');
  const yellow = chart('yellow');
  const orange = chart('orange');
  const purple = chart('purple');
  const fontSize = Number.parseFloat(cssVariable(style, '--vscode-font-size', style.fontSize));
  return {
    foreground,
    background: cssVariable(style, '--vscode-editor-background', style.backgroundColor),
    border: cssVariable(style, '--vscode-panel-border', foreground),
    red,
    blue,
    green,
    yellow,
    orange,
    purple,
    series: [blue, orange, green, purple, red, yellow],
    fontFamily: cssVariable(style, '--vscode-font-family', style.fontFamily),
    fontSize: Number.isFinite(fontSize) ? fontSize : 13,
    highContrast: document.body.classList.contains('vscode-high-contrast'),
  };
}

/** The same colour with an alpha, for fills under lines and bars behind a curve. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3,8})$/i.exec(color.trim());
  if (hex) {
    let digits = hex[1];
    if (digits.length === 3 || digits.length === 4) {
      digits = [...digits].map((d) => d + d).join('');
    }
    if (digits.length === 6 || digits.length === 8) {
      const [r, g, b] = [0, 2, 4].map((i) => Number.parseInt(digits.slice(i, i + 2), 16));
      const a = digits.length === 8 ? Number.parseInt(digits.slice(6, 8), 16) / 255 : 1;
      return `rgba(${r}, ${g}, ${b}, ${round(a * alpha)})`;
    }
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/i.exec(
    color.trim(),
  );
  if (rgb) {
    const a = rgb[4] === undefined ? 1 : parseAlpha(rgb[4]);
    return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${round(a * alpha)})`;
  }
  return color;
}

function parseAlpha(text: string): number {
  return text.endsWith('%') ? Number.parseFloat(text) / 100 : Number.parseFloat(text);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Calls `onChange` after the theme changed: the body class (light/dark/high contrast), the
 * theme id, or the variables VS Code writes on <html> (a switch between two dark themes changes
 * only those). Calls are coalesced and skipped when the colours did not actually change.
 */
export function observeTheme(onChange: (palette: Palette) => void): () => void {
  let last = JSON.stringify(readPalette());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = (): void => {
    timer = undefined;
    const palette = readPalette();
    const signature = JSON.stringify(palette);
    if (signature === last) return;
    last = signature;
    onChange(palette);
  };
  const observer = new MutationObserver(() => {
    if (timer === undefined) timer = setTimeout(check, 50);
  });
  observer.observe(document.body, {
    attributes: true,
    attributeFilter: ['class', 'data-vscode-theme-id', 'data-vscode-theme-kind'],
  });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => {
    observer.disconnect();
    if (timer !== undefined) clearTimeout(timer);
  };
}
