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

// Listened time as whole minutes ("1,234 min"), the unit of the minutes switch.
export function minutes(ms) {
  return `${number.format(Math.round((ms ?? 0) / 60000))} min`;
}

// A signed change ("+12", "−3", "±0").
export function signed(n) {
  if (!n) return "±0";
  return n > 0 ? `+${number.format(n)}` : `−${number.format(-n)}`;
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

// A calendar day ("2025-03-14") as people read it; no time zone shift, it is already local.
export function day(isoDay) {
  if (!isoDay) return "—";
  return new Intl.DateTimeFormat(undefined, { timeZone: "UTC", dateStyle: "medium" }).format(new Date(`${isoDay}T00:00:00Z`));
}

// Short form for narrow tables: "6 Dec, 04:12" (the year only when it is not this one).
export function shortDateTime(iso) {
  if (!iso) return "—";
  const when = new Date(iso);
  const sameYear = new Intl.DateTimeFormat("en", { timeZone: zone, year: "numeric" }).format(when) === new Intl.DateTimeFormat("en", { timeZone: zone, year: "numeric" }).format(new Date());
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone, day: "numeric", month: "short", year: sameYear ? undefined : "numeric", hour: "2-digit", minute: "2-digit",
  }).format(when);
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
