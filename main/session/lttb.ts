/**
 * Largest-Triangle-Three-Buckets downsampling (S. Steinarsson, "Downsampling Time Series for
 * Visual Representation", 2013): keeps the first and last points and, from each of `threshold - 2`
 * equal buckets in between, the point that forms the largest triangle with the point kept from the
 * previous bucket and the average of the next bucket. Peaks and dips survive, unlike averaging.
 */
import type { SeriesPoint } from '../ipc/contract.ts';

/**
 * Downsamples `points` (sorted by time) to at most `threshold` points; returns `points` itself
 * when it is already short enough. `threshold` below 3 keeps the first and last points only.
 */
export function lttb(points: readonly SeriesPoint[], threshold: number): SeriesPoint[] {
  const n = points.length;
  if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError(`bad threshold ${threshold}`);
  if (n <= threshold) return points as SeriesPoint[];
  if (threshold === 0) return [];
  if (threshold === 1) return [points[0]];
  if (threshold === 2) return [points[0], points[n - 1]];

  const out: SeriesPoint[] = [points[0]];
  const every = (n - 2) / (threshold - 2); // bucket width over the inner points
  let a = 0; // index of the point kept from the previous bucket
  for (let i = 0; i < threshold - 2; i++) {
    // The next bucket's average (the last point when this is the last inner bucket).
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += points[j][0];
      avgY += points[j][1];
    }
    const count = nextEnd - nextStart;
    avgX /= count;
    avgY /= count;

    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = points[a][0];
    const ay = points[a][1];
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      // Twice the triangle's area; the factor does not change the maximum.
      const area = Math.abs((ax - avgX) * (points[j][1] - ay) - (ax - points[j][0]) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push(points[best]);
    a = best;
  }
  out.push(points[n - 1]);
  return out;
}
