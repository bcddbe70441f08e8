/**
 * A BarChart's or LineChart's data as plain text lines (the demo and the tests read charts this
 * way): one line per x value, its y value per group where the chart groups by color, e.g.
 * `2026-10-29: Yes 2; Yes, but 0; No 0`.
 */
type Row = Record<string, unknown>;

function rowsOf(data: unknown): Row[] {
  const list = Array.isArray(data) ? data : typeof data === 'object' && data !== null && Array.isArray((data as { data?: unknown }).data) ? (data as { data: unknown[] }).data : [];
  return list.filter((r): r is Row => typeof r === 'object' && r !== null);
}

function fieldOf(axis: unknown): string {
  const field = typeof axis === 'object' && axis !== null ? (axis as { field?: unknown }).field : undefined;
  return typeof field === 'string' ? field : '';
}

export function chartLines(data: unknown, axes: unknown): string[] {
  const a = typeof axes === 'object' && axes !== null ? (axes as { x?: unknown; y?: unknown; options?: { groupFieldByColor?: unknown } }) : {};
  const x = fieldOf(a.x);
  const y = fieldOf(a.y);
  const group = typeof a.options?.groupFieldByColor === 'string' ? a.options.groupFieldByColor : null;
  const lines = new Map<string, string[]>();
  for (const row of rowsOf(data)) {
    const key = String(row[x] ?? '');
    const value = typeof row[y] === 'number' ? (row[y] as number).toLocaleString('en-US') : String(row[y] ?? '');
    lines.set(key, [...(lines.get(key) ?? []), group === null ? value : `${String(row[group] ?? '')} ${value}`]);
  }
  return [...lines].map(([key, values]) => `${key}: ${values.join('; ')}`);
}
