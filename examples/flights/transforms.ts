/**
 * Request-time transforms for the flights model. The same function runs in historical
 * retrieval (over every training row) and in online serving (per request), so hour and weekday
 * can never be computed two different ways.
 */
export function calendarFeatures(input: Record<string, unknown>): Record<string, unknown> {
  const t = input.event_timestamp;
  const date = t instanceof Date ? t : new Date(typeof t === 'number' ? t : String(t));
  if (Number.isNaN(date.getTime())) return { hour: null, weekday: null };
  return { hour: date.getUTCHours(), weekday: date.getUTCDay() };
}
