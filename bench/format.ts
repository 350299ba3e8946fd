export const KiB = 1024;
export const MiB = 1024 * KiB;

/** `256 MiB`, `8 MiB`, `64 B`. */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** `20,000`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Three significant digits, thousands grouped: `1,234`, `56.7`, `0.912`. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}
