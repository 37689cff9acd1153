// One EventSource per stream. Browsers reconnect by themselves and send Last-Event-ID, so a
// dropped connection misses nothing the server still buffers. Pages close their streams when
// they are left.
export function listen(path, handlers, { onState } = {}) {
  const source = new EventSource(path, { withCredentials: true });
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => {
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      handler(data, event);
    });
  }
  if (onState) {
    source.addEventListener("open", () => onState("live"));
    source.addEventListener("error", () => onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
  }
  return () => source.close();
}
