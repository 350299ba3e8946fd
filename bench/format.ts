export const KiB = 1024;
export const MiB = 1024 * KiB;

/** `20,000`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
