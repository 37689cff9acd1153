// Numbers, durations and times formatted for people, times in the user's own time zone.
let zone = "UTC";
export function setZone(tz) {
  zone = tz || "UTC";
}
export function getZone() {
  return zone;
}

const number = new Intl.NumberFormat();
export function count(n) {
  return number.format(n ?? 0);
}

export function duration(ms) {
  const minutes = Math.round((ms ?? 0) / 60000);
  if (minutes < 1) return `${Math.round((ms ?? 0) / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${number.format(Math.round(hours))} h`;
}

export function clock(ms) {
  const total = Math.max(0, Math.floor((ms ?? 0) / 1000));
  const m = Math.floor(total / 60);
  const s = String(total % 60).padStart(2, "0");
  return `${m}:${s}`;
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone, dateStyle: "medium", timeStyle: "short",
  }).format(new Date(iso));
}

export function date(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, dateStyle: "medium" }).format(new Date(iso));
}

// A share (0..1) as a percentage.
export function percent(x) {
  return `${Math.round((x ?? 0) * 1000) / 10} %`;
}

// A value the API already gives in percent (0..100), e.g. a success rate or a change.
export function percentValue(x, { signed = false } = {}) {
  if (x === null || x === undefined) return "–";
  const rounded = Math.round(x * 10) / 10;
  return `${signed && rounded > 0 ? "+" : ""}${rounded} %`;
}

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
