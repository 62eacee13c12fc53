// Transport to the relay: REST calls with problem+json errors, and one room's live connection
// (WebSocket with reconnect and backoff, falling back to polling). No DOM, no crypto.

const PROBLEM_BASE = 'https://mikrotext.org/problems/';

/** Backoff: 0.5 s doubling up to 15 s, with jitter. */
export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 15000;
/** Socket attempts in a row that never reach `ready` before falling back to polling. */
export const MAX_FAILED_OPENS = 3;
export const POLL_INTERVAL_MS = 2000;
export const SOCKET_RETRY_WHILE_POLLING_MS = 30000;
export const PING_INTERVAL_MS = 25000;
const POLL_PAGE = 1000;

/** Close codes that end the connection for good, and what they mean. */
const FINAL_CLOSE = new Map([
  [4410, 'ended'],
  [4404, 'ended'],
  [4403, 'removed'],
  [4401, 'unauthorized'],
]);

/**
 * A refused or failed REST call. `status` is the HTTP status (0 for a network error), `problem` the short problem
 * name ("invite-used", …) when the relay sent problem+json, `retryAfter` the Retry-After seconds if any.
 */
export class RelayError extends Error {
  constructor(status, problem, detail, retryAfter) {
    super(detail || (status ? `HTTP ${status}` : 'network error'));
    this.name = 'RelayError';
    this.status = status;
    this.problem = problem;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  /** True when the relay could not be reached at all. */
  get network() {
    return this.status === 0;
  }
}

async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: status only
  }
  const type = typeof body?.type === 'string' && body.type.startsWith(PROBLEM_BASE) ? body.type.slice(PROBLEM_BASE.length) : null;
  const detail = typeof body?.detail === 'string' ? body.detail : '';
  const retryAfter = Number(response.headers.get('Retry-After')) || null;
  return new RelayError(response.status, type, detail, retryAfter);
}

/**
 * Call the relay's REST API under /api. `token` becomes the Bearer token, `body` is sent as JSON.
 * Resolves to the parsed JSON answer (or null for 204); rejects with RelayError.
 */
export async function api(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new RelayError(0, null, 'network error');
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function jittered(attempt) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  return Math.round(base * (0.5 + Math.random() * 0.5));
}

/**
 * One room's live link to the relay. Frames are handed to `onFrame` exactly as the WebSocket sends them; in polling
 * mode envelopes and participant lists are fetched over REST and handed over as the same frames.
 * `onState(state)` gets 'connecting' | 'connected' | 'reconnecting' | 'polling'; `onEnd(reason)` gets
 * 'ended' | 'removed' | 'unauthorized' once, after which the connection is stopped.
 */
export class RoomConnection {
  #roomId;
  #token;
  #after;
  #onFrame;
  #onState;
  #onEnd;
  #ws = null;
  #ready = false;
  #failedOpens = 0;
  #attempt = 0;
  #stopped = false;
  #polling = false;
  /** Whether a socket reached `ready` since the page loaded: if so, failures mean the relay is down, not blocked. */
  #everReady = false;
  #pollBusy = false;
  #timers = { reconnect: 0, ping: 0, poll: 0 };

  /**
   * @param {{roomId: string, token: string, after: () => number, onFrame: (frame: object) => void,
   *          onState: (state: string) => void, onEnd: (reason: string) => void}} options
   */
  constructor({ roomId, token, after, onFrame, onState, onEnd }) {
    this.#roomId = roomId;
    this.#token = token;
    this.#after = after;
    this.#onFrame = onFrame;
    this.#onState = onState;
    this.#onEnd = onEnd;
  }

  /** Open the socket. */
  start() {
    this.#onState('connecting');
    this.#open();
  }

  /** Stop for good: close the socket, cancel every timer. */
  stop() {
    this.#stopped = true;
    clearTimeout(this.#timers.reconnect);
    clearInterval(this.#timers.ping);
    clearInterval(this.#timers.poll);
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'bye');
  }

  /** True while a socket is past `ready` and can carry `send` frames. */
  get live() {
    return this.#ready && this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Send a frame on the live socket; returns false when there is none (then use REST). */
  sendFrame(frame) {
    if (!this.live) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** REST call authenticated as this room's participant. */
  call(method, path, body) {
    return api(method, `/rooms/${this.#roomId}${path}`, { token: this.#token, body });
  }

  #open() {
    if (this.#stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/ws/rooms/${encodeURIComponent(this.#roomId)}`);
    } catch {
      this.#socketFailed();
      return;
    }
    this.#ws = ws;
    this.#ready = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: this.#token, after: this.#after() }));
    ws.onmessage = (event) => this.#message(ws, event);
    ws.onclose = (event) => this.#closed(ws, event);
  }

  #message(ws, event) {
    if (ws !== this.#ws) return;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
    if (frame.type === 'ready') this.#becameReady(ws);
    this.#onFrame(frame);
  }

  #becameReady(ws) {
    this.#ready = true;
    this.#everReady = true;
    this.#failedOpens = 0;
    this.#attempt = 0;
    this.#stopPolling();
    clearInterval(this.#timers.ping);
    this.#timers.ping = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
    }, PING_INTERVAL_MS);
    this.#onState('connected');
  }

  #closed(ws, event) {
    if (ws !== this.#ws) return;
    this.#ws = null;
    clearInterval(this.#timers.ping);
    if (this.#stopped) return;
    const final = FINAL_CLOSE.get(event.code);
    if (final) {
      this.#end(final);
      return;
    }
    if (this.#ready) {
      this.#ready = false;
      this.#onState('reconnecting');
      this.#schedule(jittered(this.#attempt++));
      return;
    }
    this.#socketFailed();
  }

  #socketFailed() {
    this.#failedOpens++;
    if (this.#polling || (!this.#everReady && this.#failedOpens >= MAX_FAILED_OPENS)) {
      this.#startPolling();
      this.#schedule(SOCKET_RETRY_WHILE_POLLING_MS);
    } else {
      this.#onState('reconnecting');
      this.#schedule(jittered(this.#attempt++));
    }
  }

  #schedule(delay) {
    clearTimeout(this.#timers.reconnect);
    this.#timers.reconnect = setTimeout(() => this.#open(), delay);
  }

  #end(reason) {
    this.stop();
    this.#onEnd(reason);
  }

  // ------------------------------------------------------------ polling fallback

  #startPolling() {
    if (this.#polling) return;
    this.#polling = true;
    this.#onState('polling');
    this.#poll();
    this.#timers.poll = setInterval(() => this.#poll(), POLL_INTERVAL_MS);
  }

  #stopPolling() {
    this.#polling = false;
    clearInterval(this.#timers.poll);
  }

  async #poll() {
    if (this.#pollBusy || !this.#polling || this.#stopped) return;
    this.#pollBusy = true;
    try {
      const room = await this.call('GET', '');
      if (!this.#polling) return;
      this.#onFrame({ type: 'room', room });
      let page;
      let pages = 0;
      do {
        page = await this.call('GET', `/envelopes?after=${this.#after()}&limit=${POLL_PAGE}`);
        pages++;
        if (!this.#polling) return;
        for (const envelope of page.envelopes ?? []) this.#onFrame({ ...envelope, type: 'envelope' });
      } while ((page.envelopes?.length ?? 0) === POLL_PAGE || (page.more === true && page.envelopes?.length > 0));
      // After several pages the room read first may be older than a list the session has read since.
      const current = pages > 1 ? await this.call('GET', '') : room;
      if (!this.#polling) return;
      this.#onFrame({ type: 'participants', participants: current.participants });
    } catch (e) {
      if (this.#stopped) return;
      if (e.status === 404) this.#end('ended');
      else if (e.status === 401) this.#end('unauthorized');
      // anything else: try again at the next tick
    } finally {
      this.#pollBusy = false;
    }
  }
}
