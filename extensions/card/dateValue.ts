/** HubSpot's DateInput speaks `{year, month (0-11), date}`; the API speaks "YYYY-MM-DD". */
export interface CalendarDate {
  year: number;
  month: number;
  date: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function toIsoDate(value: CalendarDate): string {
  return `${String(value.year).padStart(4, '0')}-${pad(value.month + 1)}-${pad(value.date)}`;
}

export function fromIsoDate(iso: string | null | undefined): CalendarDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? '');
  if (!match) return undefined;
  return { year: Number(match[1]), month: Number(match[2]) - 1, date: Number(match[3]) };
}
