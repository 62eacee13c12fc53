// MTX1 client crypto (docs/protocol/MTX1.md). Vanilla ES module: WebCrypto only, no DOM.
// Works in browsers and in Node 20+ (globalThis.crypto.subtle).

const subtle = globalThis.crypto.subtle;

/** Ratchet at most this many steps forward on one chain. */
export const MAX_RATCHET_STEPS = 1000;
/** Keep at most this many skipped message keys per chain. */
export const MAX_SKIPPED_KEYS = 1000;
/** A sender attaches a checkpoint at every chainIndex that is a multiple of this. */
export const CHECKPOINT_INTERVAL = 16;

const INT_MAX = 0x7fffffff;
const HKDF_SALT = new Uint8Array([0x4d, 0x54, 0x58, 0x31]); // "MTX1"
// DER prefix of the 91-byte SPKI of an uncompressed P-256 point (id-ecPublicKey, prime256v1).
const SPKI_PREFIX = '3059301306072a8648ce3d020106082a8648ce3d03010703420004';

// ---------------------------------------------------------------- errors

/** Base class of every MTX1 error; `code` names the failure. */
export class Mtx1Error extends Error {
  constructor(code, message) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
/** Input that is not well-formed (bad base64url, wrong size, bad field). */
export class MalformedError extends Mtx1Error {
  constructor(message = 'malformed input') { super('malformed', message); }
}
/** The envelope signature does not verify against the sender's key. */
export class BadSignatureError extends Mtx1Error {
  constructor(message = 'bad envelope signature') { super('bad-signature', message); }
}
/** A second envelope with the same (senderId, keyVersion, chainId, chainIndex). */
export class ReplayError extends Mtx1Error {
  constructor(message = 'replayed envelope') { super('replay', message); }
}
/** The envelope lies more than MAX_RATCHET_STEPS ahead of the chain state. */
export class TooFarError extends Mtx1Error {
  constructor(message = 'chain index too far ahead') { super('too-far', message); }
}
/** No key for the message, or authenticated decryption / unpadding / parsing failed. */
export class UndecryptableError extends Mtx1Error {
  constructor(message = 'cannot decrypt') { super('undecryptable', message); }
}

// ---------------------------------------------------------------- encodings

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64U_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64U_VALUE[B64U.charCodeAt(i)] = i;

/** Encode bytes as base64url without padding. */
export function b64uEncode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 4) / 3));
    for (let k = 0; k < chars; k++) out += B64U[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/**
 * Strictly decode base64url (alphabet A-Za-z0-9-_, no padding or whitespace, zero unused bits).
 * Throws MalformedError, also when `expectedLength` is given and the decoded size differs.
 */
export function b64uDecode(text, expectedLength) {
  if (typeof text !== 'string') throw new MalformedError('base64url: not a string');
  if (text.length % 4 === 1) throw new MalformedError('base64url: impossible length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0, bits = 0, j = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64U_VALUE[c] : -1;
    if (v < 0) throw new MalformedError('base64url: invalid character');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = acc >> bits;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) throw new MalformedError('base64url: non-zero trailing bits');
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new MalformedError(`base64url: expected ${expectedLength} bytes, got ${out.length}`);
  }
  return out;
}

/** Encode bytes as lowercase hex. */
export function hexEncode(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Decode hex (either case, even length); throws MalformedError. */
export function hexDecode(text) {
  if (typeof text !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new MalformedError('bad hex');
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

/** UTF-8 encode a string. */
export function utf8Encode(text) {
  return new TextEncoder().encode(text);
}

/** Decode UTF-8, rejecting invalid sequences (throws MalformedError). */
export function utf8Decode(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new MalformedError('invalid UTF-8');
  }
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function uint32be(n) {
  return new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

function checkInt(n, what) {
  if (!Number.isInteger(n) || n < 0 || n > INT_MAX) throw new MalformedError(`${what}: integer 0..2^31-1 required`);
  return n;
}

function checkStr(s, what) {
  if (typeof s !== 'string') throw new MalformedError(`${what}: string required`);
  return s;
}

/**
 * frame(tag, ...fields): ASCII tag, then per field a 4-byte big-endian length and its bytes.
 * Field kinds: string = UTF-8, number = integer (length 4, uint32 BE, 0..2^31-1),
 * Uint8Array = raw binary, null/undefined = absent (length 0).
 */
export function frame(tag, ...fields) {
  if (typeof tag !== 'string' || !/^[\x21-\x7e]+$/.test(tag)) throw new TypeError('frame: ASCII tag required');
  const parts = [utf8Encode(tag)];
  for (const f of fields) {
    let bytes;
    if (f === null || f === undefined) bytes = new Uint8Array(0);
    else if (typeof f === 'string') bytes = utf8Encode(f);
    else if (typeof f === 'number') bytes = uint32be(checkInt(f, 'frame'));
    else if (f instanceof Uint8Array) bytes = f;
    else throw new TypeError('frame: field must be string, integer, Uint8Array or null');
    parts.push(uint32be(bytes.length), bytes);
  }
  return concat(parts);
}

function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// Bytes from a Uint8Array or a base64url string, of an exact length.
function bytesOf(value, length, what) {
  const bytes = typeof value === 'string' ? b64uDecode(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) throw new MalformedError(`${what}: ${length} bytes required`);
  return bytes;
}

// ---------------------------------------------------------------- keys

/** New ECDSA P-256 signing key pair; the private key is non-extractable. */
export function generateSigningKeyPair() {
  return subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

/** New ECDH P-256 exchange key pair; the private key is non-extractable. */
export function generateExchangeKeyPair() {
  return subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
}

/** Export a P-256 public key as its 91-byte SPKI DER. */
export async function exportSpki(publicKey) {
  const spki = new Uint8Array(await subtle.exportKey('spki', publicKey));
  if (spki.length !== 91) throw new MalformedError('unexpected SPKI length');
  return spki;
}

function checkSpki(spki) {
  const bytes = bytesOf(spki, 91, 'SPKI');
  if (hexEncode(bytes.subarray(0, 27)) !== SPKI_PREFIX) throw new MalformedError('SPKI: not an uncompressed P-256 key');
  return bytes;
}

async function importSpki(spki, name, usages) {
  const bytes = checkSpki(spki);
  try {
    return await subtle.importKey('spki', bytes, { name, namedCurve: 'P-256' }, true, usages);
  } catch {
    throw new MalformedError('SPKI: point not on P-256');
  }
}

/** Import a signing public key (91-byte SPKI, bytes or base64url) for ECDSA verification. */
export function importSigningSpki(spki) {
  return importSpki(spki, 'ECDSA', ['verify']);
}

/** Import an exchange public key (91-byte SPKI, bytes or base64url) for ECDH. */
export function importExchangeSpki(spki) {
  return importSpki(spki, 'ECDH', []);
}

/** A fresh 32-byte room key. */
export function generateRoomKey() {
  return randomBytes(32);
}

// ---------------------------------------------------------------- derivations

/** HKDF-SHA-256(ikm, salt "MTX1", info UTF-8) → 32 bytes. */
export async function hkdf(ikm, info) {
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: utf8Encode(info) }, key, 256);
  return new Uint8Array(bits);
}

/** CPK = HKDF(RK, "MTX1 checkpoint " + roomId + " " + keyVersion). */
export function checkpointKey(rk, roomId, keyVersion) {
  return hkdf(rk, `MTX1 checkpoint ${roomId} ${checkInt(keyVersion, 'keyVersion')}`);
}

/** RKF = HKDF(RK, "MTX1 safety " + roomId). */
export function roomKeyFingerprint(rk, roomId) {
  return hkdf(rk, `MTX1 safety ${roomId}`);
}

async function hmac(key, byte) {
  const k = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', k, new Uint8Array([byte])));
}

async function aesGcm(op, key, nonce, data, aad) {
  const k = await subtle.importKey('raw', bytesOf(key, 32, 'AES key'), 'AES-GCM', false, [op]);
  const params = { name: 'AES-GCM', iv: bytesOf(nonce, 12, 'nonce'), additionalData: aad, tagLength: 128 };
  if (op === 'encrypt') return new Uint8Array(await subtle.encrypt(params, k, data));
  try {
    return new Uint8Array(await subtle.decrypt(params, k, data));
  } catch {
    throw new UndecryptableError('authentication failed');
  }
}

// nonce12 || AES-256-GCM(key, nonce, plaintext, aad): the 60-byte blob of checkpoints and key wraps.
async function sealBlob(key, plaintext, aad, nonce = randomBytes(12)) {
  return concat([nonce, await aesGcm('encrypt', key, nonce, plaintext, aad)]);
}

async function openBlob(key, blob, aad) {
  const bytes = bytesOf(blob, 60, 'blob');
  return aesGcm('decrypt', key, bytes.subarray(0, 12), bytes.subarray(12), aad);
}

// ---------------------------------------------------------------- chains

/** One chain step: MK_i = HMAC(CK_i, 0x01), CK_{i+1} = HMAC(CK_i, 0x02). */
export async function chainStep(chainKey) {
  return { messageKey: await hmac(chainKey, 0x01), nextChainKey: await hmac(chainKey, 0x02) };
}

/** A sender chain that only moves forward; `next()` calls are serialized. */
export class SenderChain {
  #chainId;
  #tail;

  /** Use SenderChain.start(). */
  constructor(ck0, chainId) {
    this.#chainId = bytesOf(chainId, 16, 'chainId').slice();
    this.#tail = Promise.resolve({ chainKey: bytesOf(ck0, 32, 'CK_0').slice(), chainIndex: 0 });
  }

  /** Start a chain at index 0; CK_0 and chainId are random unless given (tests). */
  static start(ck0 = randomBytes(32), chainId = randomBytes(16)) {
    return new SenderChain(ck0, chainId);
  }

  /** The 16-byte chainId (a copy). */
  get chainId() {
    return this.#chainId.slice();
  }

  /** Take the next index: resolves to {chainIndex, messageKey MK_i, chainKey CK_i}; the chain forgets both. */
  next() {
    const step = this.#tail.then(async ({ chainKey, chainIndex }) => {
      if (chainIndex > INT_MAX) throw new RangeError('chain exhausted');
      const { messageKey, nextChainKey } = await chainStep(chainKey);
      return { out: { chainIndex, messageKey, chainKey }, state: { chainKey: nextChainKey, chainIndex: chainIndex + 1 } };
    });
    this.#tail = step.then((s) => s.state);
    return step.then((s) => s.out);
  }
}

// ---------------------------------------------------------------- message bodies and checkpoints

/** Pad: bytes, 0x80, zeros up to 256·⌈(n+1)/256⌉. */
export function pad(bytes) {
  const out = new Uint8Array(256 * Math.ceil((bytes.length + 1) / 256));
  out.set(bytes);
  out[bytes.length] = 0x80;
  return out;
}

/** Unpad: strip trailing zeros, require and strip one 0x80 (throws UndecryptableError). */
export function unpad(bytes) {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end === 0 || bytes[end - 1] !== 0x80) throw new UndecryptableError('bad padding');
  return bytes.subarray(0, end - 1);
}

// header = {roomId, senderId, keyVersion, chainId (16 bytes), chainIndex}
function headerFrame(tag, h) {
  return frame(tag, checkStr(h.roomId, 'roomId'), checkStr(h.senderId, 'senderId'), checkInt(h.keyVersion, 'keyVersion'),
    bytesOf(h.chainId, 16, 'chainId'), checkInt(h.chainIndex, 'chainIndex'));
}

/** Encrypt a message object under MK_i: → {nonce, ciphertext} (Uint8Arrays, ciphertext includes the tag). */
export async function sealMessage(messageKey, header, message, nonce = randomBytes(12)) {
  const plaintext = pad(utf8Encode(JSON.stringify(message)));
  const ciphertext = await aesGcm('encrypt', messageKey, nonce, plaintext, headerFrame('MTX1-MESSAGE', header));
  return { nonce, ciphertext };
}

/** Decrypt, unpad and parse a message body under MK_i → the message object (throws UndecryptableError). */
export async function openMessage(messageKey, header, nonce, ciphertext) {
  const padded = await aesGcm('decrypt', messageKey, nonce, ciphertext, headerFrame('MTX1-MESSAGE', header));
  let message;
  try {
    message = JSON.parse(utf8Decode(unpad(padded)));
  } catch (e) {
    throw e instanceof UndecryptableError ? e : new UndecryptableError('plaintext is not UTF-8 JSON');
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) throw new UndecryptableError('plaintext is not a JSON object');
  return message;
}

/** Checkpoint carrying CK_i: nonce12 || AES-256-GCM(CPK, CK_i, aad "MTX1-CHECKPOINT") → 60 bytes. */
export async function sealCheckpoint(rk, header, chainKey, nonce) {
  const cpk = await checkpointKey(rk, header.roomId, header.keyVersion);
  return sealBlob(cpk, bytesOf(chainKey, 32, 'chain key'), headerFrame('MTX1-CHECKPOINT', header), nonce);
}

/** Open a 60-byte checkpoint → CK_i (throws UndecryptableError). */
export async function openCheckpoint(rk, header, checkpoint) {
  const cpk = await checkpointKey(rk, header.roomId, header.keyVersion);
  return openBlob(cpk, checkpoint, headerFrame('MTX1-CHECKPOINT', header));
}

// ---------------------------------------------------------------- envelope signatures

/**
 * Signed bytes of a wire envelope (base64url fields as on the wire; strict sizes):
 * frame("MTX1-ENVELOPE", roomId, senderId, keyVersion, chainId, chainIndex, checkpoint|null, nonce, ciphertext).
 */
export function envelopeSigningInput(roomId, senderId, env) {
  return frame('MTX1-ENVELOPE', checkStr(roomId, 'roomId'), checkStr(senderId, 'senderId'),
    checkInt(env.keyVersion, 'keyVersion'), b64uDecode(env.chainId, 16), checkInt(env.chainIndex, 'chainIndex'),
    env.checkpoint === null || env.checkpoint === undefined ? null : b64uDecode(env.checkpoint, 60),
    b64uDecode(env.nonce, 12), b64uDecode(env.ciphertext));
}

/** ECDSA P-256 / SHA-256 signature, P1363 form (64 bytes). */
export async function signBytes(privateKey, data) {
  return new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, data));
}

/** Verify a 64-byte P1363 ECDSA P-256 / SHA-256 signature → boolean. */
export async function verifyBytes(publicKey, data, signature) {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  return subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, signature, data);
}

/**
 * Encrypt and sign the next message on `chain` → the wire fields of a `send` frame
 * {keyVersion, chainId, chainIndex, checkpoint (or null), nonce, ciphertext, signature}, base64url strings.
 * A checkpoint is attached at every chainIndex % 16 == 0, and on any other index when `withCheckpoint` (a message that
 * may be stored before an earlier one of its chain). `nonce`/`checkpointNonce` are for tests only.
 */
export async function encryptEnvelope({
  roomId, senderId, keyVersion, rk, chain, signingKey, message, withCheckpoint = false, nonce, checkpointNonce,
}) {
  const { chainIndex, messageKey, chainKey } = await chain.next();
  try {
    const header = { roomId, senderId, keyVersion, chainId: chain.chainId, chainIndex };
    const checkpoint = withCheckpoint || chainIndex % CHECKPOINT_INTERVAL === 0
      ? await sealCheckpoint(rk, header, chainKey, checkpointNonce) : null;
    const body = await sealMessage(messageKey, header, message, nonce);
    const env = {
      keyVersion,
      chainId: b64uEncode(header.chainId),
      chainIndex,
      checkpoint: checkpoint && b64uEncode(checkpoint),
      nonce: b64uEncode(body.nonce),
      ciphertext: b64uEncode(body.ciphertext),
    };
    env.signature = b64uEncode(await signBytes(signingKey, envelopeSigningInput(roomId, senderId, env)));
    return env;
  } finally {
    messageKey.fill(0); // best effort: the chain only moves forward
    chainKey.fill(0);
  }
}

// ---------------------------------------------------------------- receiving

/** Per-room receiver: verifies, then decrypts envelopes, keeping per-chain state; calls are serialized. */
export class ReceiverState {
  #roomId;
  #chains = new Map(); // "senderId keyVersion chainId" → {nextIndex, chainKey, skipped: Map<index, MK>, seen: Set<index>}
  #queue = Promise.resolve();

  /** A receiver for one room. */
  constructor(roomId) {
    this.#roomId = roomId;
  }

  /**
   * Verify the signature (first), then decrypt a relay envelope
   * {senderId, keyVersion, chainId, chainIndex, checkpoint, nonce, ciphertext, signature}
   * with the sender's signing SPKI and the room key of that keyVersion → the message object.
   * Throws MalformedError, BadSignatureError, ReplayError, TooFarError or UndecryptableError; state changes only on success.
   */
  receive(envelope, { signingSpki, rk }) {
    const run = this.#queue.then(() => this.#receive(envelope, signingSpki, rk));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #receive(env, signingSpki, rk) {
    const roomId = this.#roomId;
    const { senderId, keyVersion, chainIndex: i } = env;
    const input = envelopeSigningInput(roomId, senderId, env);
    const publicKey = await importSigningSpki(signingSpki);
    let signature;
    try { signature = b64uDecode(env.signature, 64); } catch { throw new BadSignatureError('malformed signature'); }
    if (!(await verifyBytes(publicKey, input, signature))) throw new BadSignatureError();

    const chainId = b64uDecode(env.chainId, 16);
    const id = `${senderId} ${keyVersion} ${env.chainId}`;
    const st = this.#chains.get(id);
    if (st?.seen.has(i)) throw new ReplayError();
    const header = { roomId, senderId, keyVersion, chainId, chainIndex: i };

    // Find a starting point: the chain state, else the envelope's own checkpoint (the nearest one at or before i).
    let plan;
    if (st?.skipped.has(i)) plan = { messageKey: st.skipped.get(i) };
    else if (st && i >= st.nextIndex && i - st.nextIndex <= MAX_RATCHET_STEPS) plan = await ratchet(st.chainKey, st.nextIndex, i);
    else if (env.checkpoint != null) plan = await ratchet(await openCheckpoint(rk, header, b64uDecode(env.checkpoint, 60)), i, i);
    else if (!st) throw new UndecryptableError('no chain state and no checkpoint');
    else if (i > st.nextIndex) throw new TooFarError();
    else throw new UndecryptableError('message key no longer held');

    const message = await openMessage(plan.messageKey, header, b64uDecode(env.nonce, 12), b64uDecode(env.ciphertext));

    const state = st ?? { nextIndex: 0, chainKey: null, skipped: new Map(), seen: new Set() };
    state.skipped.delete(i);
    if (plan.nextChainKey && i >= state.nextIndex) {
      for (const [k, mk] of plan.skipped) state.skipped.set(k, mk);
      for (const k of state.skipped.keys()) {
        if (state.skipped.size <= MAX_SKIPPED_KEYS) break;
        state.skipped.delete(k); // oldest first
      }
      state.chainKey = plan.nextChainKey;
      state.nextIndex = i + 1;
    }
    state.seen.add(i);
    this.#chains.set(id, state);
    return message;
  }
}

// From CK_from at index `from`, derive MK_to, the skipped keys from..to-1 and CK_{to+1}.
async function ratchet(chainKey, from, to) {
  const skipped = [];
  let ck = chainKey;
  for (let k = from; ; k++) {
    const { messageKey, nextChainKey } = await chainStep(ck);
    ck = nextChainKey;
    if (k === to) return { messageKey, nextChainKey, skipped };
    skipped.push([k, messageKey]);
  }
}

// ---------------------------------------------------------------- safety code

function compareBytes(a, b) {
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return a[k] - b[k];
  return a.length - b.length;
}

/**
 * Safety code: SHA-256 of frame("MTX1-SAFETY", roomId, keyVersion, RKF, then per participant sorted by
 * participantId bytes: participantId, signing SPKI, exchange SPKI) → 8 groups of 5 digits joined by one space.
 * participants: [{participantId, signingKey, exchangeKey}] with SPKIs as base64url (or bytes).
 */
export async function safetyCode({ roomId, keyVersion, rk, participants }) {
  const sorted = participants
    .map((p) => ({ id: checkStr(p.participantId, 'participantId'), idBytes: utf8Encode(p.participantId), sig: checkSpki(p.signingKey), ex: checkSpki(p.exchangeKey) }))
    .sort((a, b) => compareBytes(a.idBytes, b.idBytes));
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k].id === sorted[k - 1].id) throw new MalformedError('duplicate participantId');
  }
  const fields = [checkStr(roomId, 'roomId'), checkInt(keyVersion, 'keyVersion'), await roomKeyFingerprint(rk, roomId)];
  for (const p of sorted) fields.push(p.id, p.sig, p.ex);
  const digest = new DataView(await subtle.digest('SHA-256', frame('MTX1-SAFETY', ...fields)));
  const groups = [];
  for (let g = 0; g < 8; g++) groups.push(String(digest.getUint32(4 * g) % 100000).padStart(5, '0'));
  return groups.join(' ');
}

// ---------------------------------------------------------------- invites

/** inviteToken = HKDF(S, "MTX1 invite token " + roomId), base64url. S: 32 bytes or base64url. */
export async function inviteTokenFor(secret, roomId) {
  return b64uEncode(await hkdf(bytesOf(secret, 32, 'inviteSecret'), `MTX1 invite token ${roomId}`));
}

function inviteWrapKey(secret, roomId) {
  return hkdf(secret, `MTX1 invite wrap ${roomId}`);
}

/**
 * Create an invite: → {inviteSecret, inviteToken, wrappedRoomKey (base64url), fragment "#/join/{roomId}/{S}"}.
 * `secret`/`nonce` are for tests only.
 */
export async function createInvite({ roomId, keyVersion, rk, secret = randomBytes(32), nonce }) {
  const s = bytesOf(secret, 32, 'inviteSecret');
  const aad = frame('MTX1-INVITE', checkStr(roomId, 'roomId'), checkInt(keyVersion, 'keyVersion'));
  const wrapped = await sealBlob(await inviteWrapKey(s, roomId), bytesOf(rk, 32, 'room key'), aad, nonce);
  const inviteSecret = b64uEncode(s);
  return {
    inviteSecret,
    inviteToken: await inviteTokenFor(s, roomId),
    wrappedRoomKey: b64uEncode(wrapped),
    fragment: formatInviteFragment(roomId, inviteSecret),
  };
}

/** Unwrap the room key of an invite → RK (throws UndecryptableError / MalformedError). */
export async function openInvite({ roomId, keyVersion, secretB64u, wrappedRoomKeyB64u }) {
  const s = b64uDecode(secretB64u, 32);
  const aad = frame('MTX1-INVITE', checkStr(roomId, 'roomId'), checkInt(keyVersion, 'keyVersion'));
  return openBlob(await inviteWrapKey(s, roomId), b64uDecode(wrappedRoomKeyB64u, 60), aad);
}

/** The link fragment "#/join/{roomId}/{inviteSecret}" (append to "https://HOST/"). */
export function formatInviteFragment(roomId, inviteSecretB64u) {
  b64uDecode(roomId, 16);
  b64uDecode(inviteSecretB64u, 32);
  return `#/join/${roomId}/${inviteSecretB64u}`;
}

/** Parse "#/join/{roomId}/{S}" (leading "#" optional) → {roomId, inviteSecret} or null if not a valid join fragment. */
export function parseInviteFragment(fragment) {
  const m = /^#?\/join\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/.exec(fragment ?? '');
  if (!m) return null;
  try {
    b64uDecode(m[1], 16);
    b64uDecode(m[2], 32);
  } catch {
    return null;
  }
  return { roomId: m[1], inviteSecret: m[2] };
}

// ---------------------------------------------------------------- key rotation

async function rotationWrapKey(privateKey, peerSpki, roomId, keyVersion) {
  const peer = await importExchangeSpki(peerSpki);
  const x = new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: peer }, privateKey, 256));
  return hkdf(x, `MTX1 wrap ${roomId} ${checkInt(keyVersion, 'keyVersion')}`);
}

/**
 * Wrap the new room key for one participant (creator side) → base64url
 * nonce12 || AES-256-GCM(HKDF(ECDH x, "MTX1 wrap roomId keyVersion"), RK, aad frame("MTX1-WRAP", roomId, keyVersion, participantId)).
 * keyVersion is the new version; participantId the recipient's. `nonce` is for tests only.
 */
export async function wrapForParticipant({ roomId, keyVersion, rk, creatorExchangePrivateKey, recipientExchangeSpki, participantId, nonce }) {
  const key = await rotationWrapKey(creatorExchangePrivateKey, recipientExchangeSpki, roomId, keyVersion);
  const aad = frame('MTX1-WRAP', checkStr(roomId, 'roomId'), keyVersion, checkStr(participantId, 'participantId'));
  return b64uEncode(await sealBlob(key, bytesOf(rk, 32, 'room key'), aad, nonce));
}

/** Unwrap a rotation wrap (recipient side; participantId is one's own) → RK (throws UndecryptableError / MalformedError). */
export async function unwrapFromCreator({ roomId, keyVersion, wrapped, recipientExchangePrivateKey, creatorExchangeSpki, participantId }) {
  const key = await rotationWrapKey(recipientExchangePrivateKey, creatorExchangeSpki, roomId, keyVersion);
  const aad = frame('MTX1-WRAP', checkStr(roomId, 'roomId'), keyVersion, checkStr(participantId, 'participantId'));
  return openBlob(key, bytesOf(wrapped, 60, 'wrapped'), aad);
}
