// Persistence across reloads of this tab. Room records (session token, participantId, room key as base64url, key
// version, expiry, pseudonym, role and non-secret bookkeeping) live in sessionStorage, which ends with the tab.
// Private keys live in IndexedDB as non-extractable CryptoKeys (structured clone), keyed by participantId.
// Only room-session.js imports this module.

const INDEX_KEY = 'mikrotext.rooms';
const RECORD_PREFIX = 'mikrotext.room.';
const DB_NAME = 'mikrotext';
const DB_STORE = 'keys';

function storage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled
  }
}

function readJson(key, fallback) {
  try {
    const text = storage()?.getItem(key);
    return text ? JSON.parse(text) : fallback;
  } catch {
    return fallback;
  }
}

function writeJson(key, value) {
  try {
    storage()?.setItem(key, JSON.stringify(value));
  } catch {
    // quota or disabled storage: the room still works until the page is closed
  }
}

/** The stored room records, in the order the rooms were entered. */
export function loadRooms() {
  const ids = readJson(INDEX_KEY, []);
  return (Array.isArray(ids) ? ids : []).map((id) => readJson(RECORD_PREFIX + id, null)).filter((r) => r?.roomId);
}

/** Store (or replace) one room record. */
export function saveRoom(record) {
  writeJson(RECORD_PREFIX + record.roomId, record);
  const ids = readJson(INDEX_KEY, []);
  if (!ids.includes(record.roomId)) writeJson(INDEX_KEY, [...ids, record.roomId]);
}

/** Forget a room record. */
export function forgetRoom(roomId) {
  storage()?.removeItem(RECORD_PREFIX + roomId);
  writeJson(INDEX_KEY, readJson(INDEX_KEY, []).filter((id) => id !== roomId));
}

// ---------------------------------------------------------------- IndexedDB

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    dbPromise.catch(() => { dbPromise = null; });
  }
  return dbPromise;
}

async function run(mode, action) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(DB_STORE, mode);
    const request = action(tx.objectStore(DB_STORE));
    tx.oncomplete = () => resolve(request?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/**
 * Store a participant's key pairs {signing: CryptoKeyPair, exchange: CryptoKeyPair, expiresAt (ms)}.
 * The private keys stay non-extractable. Resolves false if IndexedDB is unavailable.
 */
export async function saveKeys(participantId, keys) {
  try {
    await run('readwrite', (store) => store.put(keys, participantId));
    return true;
  } catch {
    return false;
  }
}

/** The stored key pairs of a participant, or null. */
export async function loadKeys(participantId) {
  try {
    return (await run('readonly', (store) => store.get(participantId))) ?? null;
  } catch {
    return null;
  }
}

/** Delete a participant's key pairs. */
export async function forgetKeys(participantId) {
  try {
    await run('readwrite', (store) => store.delete(participantId));
  } catch {
    // nothing stored
  }
}

/** Delete key pairs of rooms that expired over `graceMs` ago (left behind by closed tabs). */
export async function sweepExpiredKeys(now = Date.now(), graceMs = 10 * 60 * 1000) {
  try {
    await run('readwrite', (store) => {
      const cursor = store.openCursor();
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c) return;
        if (!(c.value?.expiresAt + graceMs > now)) c.delete();
        c.continue();
      };
      return cursor;
    });
  } catch {
    // best effort
  }
}
