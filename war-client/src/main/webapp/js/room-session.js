// Per-room crypto and protocol state: the only module that holds key material (room keys, private keys, session
// tokens, invite secrets, sender chains). The UI gets RoomSession objects with high-level methods and plain events;
// every secret stays in private fields here or in the vault.

import {
  SenderChain, ReceiverState, b64uDecode, b64uEncode, createInvite, encryptEnvelope, exportSpki,
  generateExchangeKeyPair, generateRoomKey, generateSigningKeyPair, inviteTokenFor, openInvite,
  parseInviteFragment, safetyCode, unwrapFromCreator, wrapForParticipant,
} from './mtx1.js';
import { RelayError, RoomConnection, api } from './relay.js';
import * as vault from './vault.js';

let nextSendId = 1;

/** A failure of a session action that is not a relay refusal (`code` names it). */
export class SessionError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SessionError';
    this.code = code;
  }
}

/** A person's public keys as the relay lists them: base64url SPKI. */
async function publicKeysOf(signing, exchange) {
  const [signingKey, exchangeKey] = await Promise.all([exportSpki(signing.publicKey), exportSpki(exchange.publicKey)]);
  return { signingKey: b64uEncode(signingKey), exchangeKey: b64uEncode(exchangeKey) };
}

async function newIdentity() {
  const [signing, exchange] = await Promise.all([generateSigningKeyPair(), generateExchangeKeyPair()]);
  return { signing, exchange, ...await publicKeysOf(signing, exchange) };
}

function sameSpki(listed, own) {
  try {
    return b64uEncode(b64uDecode(listed, 91)) === own;
  } catch {
    return false;
  }
}

function timeOf(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

function isParticipant(p) {
  return p && typeof p.participantId === 'string' && typeof p.pseudonym === 'string'
    && typeof p.signingKey === 'string' && typeof p.exchangeKey === 'string';
}

/**
 * One room this person is in. Events (CustomEvent detail):
 * `message` {seq, senderId, senderName, text, mine, verified};
 * `outgoing` {id, text, status: 'sending'|'failed'|'done', error, busy (the relay was busy: it is sent again soon)};
 * `participants` [{participantId, pseudonym, role, you}]; `safety` {code, changed, forged}; `state` {state, reason};
 * `unread` {count}; `expires` {expiresAt}.
 */
export class RoomSession extends EventTarget {
  #record;
  #token;
  #rks = new Map();
  #signing;
  #exchange;
  #chain;
  #receiver;
  #conn = null;
  #people = new Map();
  /** Senders of envelopes who were in no list yet, for whom the room was read again (once each). */
  #lookedUp = new Set();
  #participants = [];
  #participantsKey = '';
  #messages = [];
  #outgoing = new Map();
  #lastSeq = 0;
  #recvQueue = Promise.resolve();
  #sendQueue = Promise.resolve();
  #unread = 0;
  #safety = { code: '', changed: false, forged: false };
  #ownKeys = null;
  #safetyRun = 0;
  #state = 'connecting';
  #endReason = null;
  #generation = 0;
  #synced = false;
  #rotating = null;
  #rotationSent = 0;
  #rotationTimer = null;
  #rotationRetries = 0;

  /** Use createRoom(), PendingInvite.join() or restoreRooms(). */
  constructor(record, keys) {
    super();
    const { sessionToken, roomKey, previousRoomKeys, ...rest } = record;
    this.#token = sessionToken;
    this.#record = { ...rest, people: rest.people ?? {}, readSeq: rest.readSeq ?? 0 };
    this.#rks.set(record.keyVersion, b64uDecode(roomKey, 32));
    for (const [v, k] of Object.entries(previousRoomKeys ?? {})) this.#rks.set(Number(v), b64uDecode(k, 32));
    this.#signing = keys.signing;
    this.#exchange = keys.exchange;
    this.#chain = SenderChain.start();
    this.#receiver = new ReceiverState(record.roomId);
    if (this.#record.foreignKeys) this.#safety.forged = true;
    for (const [id, p] of Object.entries(this.#record.people)) this.#people.set(id, p);
  }

  // ------------------------------------------------------------ read-only view for the UI

  /** The room's id (public: it is in the link and the URL of every call). */
  get roomId() { return this.#record.roomId; }
  /** This person's participant id in the room. */
  get participantId() { return this.#record.participantId; }
  /** This person's pseudonym. */
  get pseudonym() { return this.#record.pseudonym; }
  /** True for the room's creator (who can burn it). */
  get isCreator() { return this.#record.role === 'creator'; }
  /** A display title: the creator's pseudonym's room. */
  get title() {
    const name = this.#record.creatorName;
    return name ? `\u2068${name}\u2069’s room` : 'Room'; // the name is bidi-isolated
  }
  /** Expiry time in ms since the epoch (server clock). */
  get expiresAt() { return timeOf(this.#record.expiresAt); }
  /** Connection state: connecting | connected | reconnecting | polling | ended. */
  get state() { return this.#state; }
  /** Why the room ended (ended | removed | unauthorized | left), or null. */
  get endReason() { return this.#endReason; }
  /** Messages shown so far, in seq order (copies). */
  get messages() { return this.#messages.map((m) => ({ ...m })); }
  /** Messages still on their way or refused. */
  get outgoing() { return [...this.#outgoing.values()].map((out) => this.#outView(out)); }
  /** The relay's current participant list, yours marked. */
  get participants() { return this.#participants.map((p) => ({ ...p })); }
  /**
   * The current safety code, whether it changed since last checked, and whether the relay was caught listing keys for
   * this person that are not theirs (`forged`: then there is no code, and the room cannot be trusted).
   */
  get safety() { return { ...this.#safety }; }
  /** Messages from others not yet read. */
  get unread() { return this.#unread; }

  // ------------------------------------------------------------ actions

  /** Connect to the relay (hello after=0: the whole retained history is read again). */
  start() {
    this.#conn = new RoomConnection({
      roomId: this.roomId,
      token: this.#token,
      after: () => this.#lastSeq,
      onFrame: (frame) => this.#frame(frame),
      onState: (state) => this.#setState(state),
      onEnd: (reason) => this.#destroy(reason),
    });
    this.#conn.start();
    return this;
  }

  /** Encrypt, sign and send a text message; it is shown when the relay hands it back. */
  sendText(text) {
    if (this.#endReason) throw new SessionError('ended', 'This room has ended.');
    const out = { id: `m${nextSendId++}`, text, status: 'sending', error: null, env: null, via: null };
    this.#outgoing.set(out.id, out);
    this.#emit('outgoing', this.#outView(out));
    this.#sendQueue = this.#sendQueue.then(() => this.#encryptAndTransmit(out)).catch(() => {});
    return out.id;
  }

  /** Forget a refused message. */
  dismiss(id) {
    const out = this.#outgoing.get(id);
    if (!out || out.status !== 'failed') return;
    this.#outgoing.delete(id);
    this.#emit('outgoing', { ...this.#outView(out), status: 'done' });
  }

  /** A fresh one-time invite link (registered with the relay before it is returned). */
  async createInviteLink() {
    const keyVersion = this.#record.keyVersion;
    const invite = await createInvite({ roomId: this.roomId, keyVersion, rk: this.#rks.get(keyVersion) });
    await this.#conn.call('POST', '/invites', {
      inviteToken: invite.inviteToken, keyVersion, wrappedRoomKey: invite.wrappedRoomKey,
    });
    return `${location.origin}/${invite.fragment}`;
  }

  /** Accept the current safety code as checked. */
  acknowledgeSafety() {
    if (this.#safety.forged) return;
    this.#record.checkedCode = this.#safety.code;
    this.#safety = { code: this.#safety.code, changed: false, forged: false };
    this.#persist();
    this.#emit('safety', this.safety);
  }

  /** Everything shown so far counts as read. */
  markRead() {
    const last = this.#messages.at(-1)?.seq ?? 0;
    if (this.#unread === 0 && this.#record.readSeq >= last) return;
    this.#unread = 0;
    this.#record.readSeq = Math.max(this.#record.readSeq, last);
    this.#persist();
    this.#emit('unread', { count: 0 });
  }

  /** Leave the room (the creator cannot: it burns the room instead; the relay answers 409). */
  async leave() {
    if (this.isCreator && !this.#endReason) {
      throw new SessionError('creator-cannot-leave', 'The creator cannot leave the room; it can end it.');
    }
    if (!this.#endReason) {
      try {
        await this.#conn.call('DELETE', `/participants/${this.participantId}`);
      } catch (e) {
        if (!(e instanceof RelayError) || ![401, 404].includes(e.status)) throw e;
      }
    }
    await this.#destroy('left');
  }

  /**
   * Remove someone (creator only), then give everyone still here a new room key, so that nothing said from now on is
   * sealed under a key the removed person holds; the new key also revokes every invite link not yet used. Resolves
   * once both are done. Until the new key is in place the room counts as waiting for it (kept across reloads), and
   * every new connection tries again.
   */
  async remove(participantId) {
    if (this.#endReason) throw new SessionError('ended', 'This room has ended.');
    if (!this.isCreator) throw new SessionError('not-creator', 'Only the room’s creator can remove someone.');
    if (participantId === this.participantId) {
      throw new SessionError('remove-self', 'The creator cannot remove itself; it can end the room.');
    }
    const wasPending = Boolean(this.#record.rotationPending);
    this.#record.rotationPending = true; // before the removal: a reload in between still rotates
    this.#persist();
    try {
      await this.#conn.call('DELETE', `/participants/${encodeURIComponent(participantId)}`);
    } catch (e) {
      const gone = e instanceof RelayError && e.problem === 'participant-not-found';
      if (!gone && e instanceof RelayError && [400, 401, 403, 404, 409].includes(e.status) && !wasPending) {
        this.#record.rotationPending = false; // refused outright: nobody was removed, and no earlier removal waits
        this.#persist();
      }
      if (!gone) throw e;
    }
    // A rotation already under way read the participants before this removal: let it end, then make one without them.
    await this.#rotating?.catch(() => {});
    this.#record.rotationPending = true;
    this.#persist();
    try {
      await this.#rotate();
    } catch {
      throw new SessionError('rotation-pending', 'They were removed, but the room’s new key is not in place yet.');
    }
  }

  /** Delete the room now, for everyone (creator only). */
  async burn() {
    try {
      await this.#conn.call('DELETE', '');
    } catch (e) {
      if (!(e instanceof RelayError) || e.status !== 404) throw e;
    }
    await this.#destroy('ended');
  }

  /** Stop the connection without forgetting the room (page teardown). */
  close() {
    this.#conn?.stop();
    clearTimeout(this.#rotationTimer);
    this.#rotationTimer = null;
  }

  // ------------------------------------------------------------ sending

  // While an earlier message of the chain is not yet stored (it waits for its ack, or to be sent again after a busy
  // relay), this one may be stored before it: it carries a checkpoint of its own, so that a receiver without the
  // chain's state (everyone, at the chain's start) reads it without the earlier one.
  async #encryptAndTransmit(out) {
    const keyVersion = this.#record.keyVersion;
    const chainId = b64uEncode(this.#chain.chainId);
    const withCheckpoint = [...this.#outgoing.values()].some((o) => o !== out && o.status === 'sending'
      && o.env?.chainId === chainId && o.seq === undefined);
    try {
      out.env = await encryptEnvelope({
        roomId: this.roomId, senderId: this.participantId, keyVersion, rk: this.#rks.get(keyVersion),
        chain: this.#chain, signingKey: this.#signing.privateKey, message: { text: out.text }, withCheckpoint,
      });
    } catch {
      this.#failed(out.id, 0, 'This message could not be encrypted.');
      return;
    }
    await this.#transmit(out);
  }

  async #transmit(out) {
    if (this.#endReason) return;
    if (this.#conn.sendFrame({ ...out.env, type: 'send', id: out.id })) {
      out.via = this.#generation;
      return;
    }
    out.via = 'rest';
    try {
      const { seq } = await this.#conn.call('POST', '/envelopes', out.env);
      this.#acked(out.id, seq);
    } catch (e) {
      this.#failed(out.id, e.status ?? 0, e.detail, e.retryAfter);
    }
  }

  #acked(id, seq) {
    const out = this.#outgoing.get(id);
    if (out && Number.isSafeInteger(seq)) out.seq = seq;
  }

  #failed(id, status, detail, retryAfter) {
    const out = this.#outgoing.get(id);
    if (!out || out.status !== 'sending') return;
    if (status === 409 && /already stored/i.test(detail ?? '')) return; // a resend of a stored envelope
    // A busy relay (503), or no relay at all while waiting for a busy one (it may be restarting): wait and send again.
    if ((status === 503 || (status === 0 && out.busyResends)) && this.#sendAgainLater(out, retryAfter)) return;
    if (status === 409 && /key version/i.test(detail ?? '') && !out.resealed) {
      out.resealed = true;
      out.resealing = true; // until it is sealed again or fails: a reconnect must not send the old envelope meanwhile
      this.#reseal(out, status);
      return;
    }
    out.status = 'failed';
    out.error = sendErrorText(status);
    this.#chain = SenderChain.start(); // later messages start at a fresh checkpoint
    this.#emit('outgoing', this.#outView(out));
  }

  // Sealed under a key that was rotated away meanwhile: once the new key is adopted (from the `key-rotated` frame
  // already received, or else from the room's view), the message is sealed again under it and sent once more.
  async #reseal(out, status) {
    await this.#recvQueue;
    if (out.env.keyVersion >= this.#record.keyVersion && !this.#endReason) {
      try {
        this.#room(await this.#conn.call('GET', ''));
      } catch {
        // the relay cannot be reached: the message fails below
      }
      await this.#recvQueue;
    }
    if (out.env.keyVersion < this.#record.keyVersion && !this.#endReason) {
      this.#sendQueue = this.#sendQueue.then(() => {
        out.resealing = false;
        return this.#encryptAndTransmit(out);
      }).catch(() => {});
    } else {
      out.resealing = false;
      this.#failed(out.id, status, null);
    }
  }

  // The relay was busy (503): the same envelope goes again after a pause, as it is. A busy relay refuses before it
  // stores, and where it may have stored it after all (it stopped, or a REST send outlasted its wait) the resend is
  // refused as already stored: nothing is stored twice. False once the waits would pass a minute: the message fails.
  // `busyTimer` stays set until the resend starts, so that a reconnect's #resendStale does not send it as well.
  #sendAgainLater(out, retryAfter) {
    const delay = busyResendDelay(out.busyResends ?? 0, retryAfter, out.busyWaited ?? 0);
    if (delay === null || this.#endReason) return false;
    out.busyResends = (out.busyResends ?? 0) + 1;
    out.busyWaited = (out.busyWaited ?? 0) + delay;
    out.busy = true;
    this.#emit('outgoing', this.#outView(out));
    out.busyTimer = setTimeout(() => {
      if (this.#outgoing.get(out.id) !== out || out.status !== 'sending') return; // arrived, or the room ended
      out.busy = false;
      this.#emit('outgoing', this.#outView(out));
      this.#sendQueue = this.#sendQueue.then(() => {
        out.busyTimer = null;
        return this.#outgoing.get(out.id) === out ? this.#transmit(out) : undefined;
      }).catch(() => {});
    }, delay);
    return true;
  }

  // A socket dropped before acks came back: the catch-up has shown what was stored; send the rest again (not those
  // waiting to be sent again after a busy relay: their timer sends them; nor those being sealed again under a new key).
  #resendStale() {
    for (const out of this.#outgoing.values()) {
      if (out.status === 'sending' && out.env && out.via !== 'rest' && out.via !== this.#generation
          && !out.busyTimer && !out.resealing) {
        this.#sendQueue = this.#sendQueue.then(() => this.#transmit(out)).catch(() => {});
      }
    }
  }

  #outView(out) {
    const busy = out.status === 'sending' && out.busy === true;
    return { id: out.id, text: out.text, status: out.status, error: out.error, busy };
  }

  // ------------------------------------------------------------ receiving

  #frame(frame) {
    switch (frame.type) {
      case 'ready':
        this.#newLink();
        this.#room(frame.room);
        break;
      case 'room':
        this.#room(frame.room);
        break;
      case 'envelope':
        this.#envelope(frame);
        break;
      case 'participants':
        this.#learnDeparted(frame.departed);
        this.#applyParticipants(frame.participants);
        if (!this.#synced) {
          this.#synced = true;
          this.#resendStale();
        }
        break;
      case 'ack':
        this.#acked(frame.id, frame.seq);
        break;
      case 'error':
        if (frame.id != null) this.#failed(frame.id, frame.code, frame.message, frame.retryAfter);
        break;
      case 'key-rotated':
        this.#recvQueue = this.#recvQueue.then(() => this.#adoptKey(frame.keyVersion, frame.wrapped));
        break;
      default:
        break; // pong and frames of later versions
    }
  }

  #room(room) {
    if (!room || typeof room !== 'object') return;
    if (typeof room.expiresAt === 'string' && room.expiresAt !== this.#record.expiresAt) {
      this.#record.expiresAt = room.expiresAt;
      this.#emit('expires', { expiresAt: this.expiresAt });
    }
    this.#learnDeparted(room.departed);
    this.#applyParticipants(room.participants);
    if (Number.isInteger(room.keyVersion) && room.keyVersion > this.#record.keyVersion) {
      this.#recvQueue = this.#recvQueue.then(() => this.#adoptKey(room.keyVersion, room.wrapped));
    }
  }

  /** People who left: their names and signing keys still verify what they wrote, for those who joined later. */
  #learnDeparted(list) {
    if (!Array.isArray(list)) return;
    for (const p of list) {
      if (!p || typeof p.participantId !== 'string' || typeof p.pseudonym !== 'string'
        || typeof p.signingKey !== 'string' || this.#people.has(p.participantId)) continue;
      this.#people.set(p.participantId, { pseudonym: p.pseudonym, signingKey: p.signingKey, role: 'left' });
    }
  }

  #applyParticipants(list) {
    if (!Array.isArray(list)) return;
    const current = list.filter(isParticipant);
    const key = JSON.stringify(current);
    if (key === this.#participantsKey) return; // polling hands the same list over and over
    this.#participantsKey = key;
    for (const p of current) {
      this.#people.set(p.participantId, { pseudonym: p.pseudonym, signingKey: p.signingKey, exchangeKey: p.exchangeKey, role: p.role });
      if (p.role === 'creator') this.#record.creatorName = p.pseudonym;
    }
    const quiet = !this.#record.talked; // frames arrive in order: nothing has been said yet
    this.#participants = current.map((p) => ({
      participantId: p.participantId, pseudonym: p.pseudonym, role: p.role, you: p.participantId === this.participantId,
    }));
    this.#record.people = Object.fromEntries(this.#people);
    this.#persist();
    this.#emit('participants', this.participants);
    this.#refreshSafety(current, quiet);
  }

  // Until the first message, people are still gathering: each new code counts as checked. From then on, a change
  // is shown until acknowledged (the code a person may already have compared is no longer the room's).
  // A list that gives this person keys that are not theirs ends the code for good: see #listsForeignKeysForMe.
  async #refreshSafety(current, quiet = false) {
    const run = ++this.#safetyRun;
    const keyVersion = this.#record.keyVersion;
    let code;
    try {
      code = await safetyCode({ roomId: this.roomId, keyVersion, rk: this.#rks.get(keyVersion), participants: current });
    } catch {
      code = '';
    }
    // Read the mark again after the awaits: a run that began before another caught the relay must not show a code.
    const forged = (await this.#listsForeignKeysForMe(current)) || Boolean(this.#record.foreignKeys);
    if (forged) { // shown even by a run overtaken by a later one: once caught, the relay stays caught
      this.#safety = { code: '', changed: false, forged: true };
      this.#emit('safety', this.safety);
      return;
    }
    if (run !== this.#safetyRun) return;
    if (code && (quiet || !this.#record.checkedCode)) {
      this.#record.checkedCode = code; // the first code seen counts as checked
      this.#persist();
    }
    this.#safety = { code, changed: Boolean(code) && code !== this.#record.checkedCode, forged: false };
    this.#emit('safety', this.safety);
  }

  // Whether the relay lists this person with keys that are not theirs. A relay that swapped everyone's keys the same
  // way in every list, each person's own entry included, would leave all the codes equal, so comparing them would not
  // tell; only the person's own client can. Once caught, the relay is not trusted again in this room (kept with it).
  async #listsForeignKeysForMe(list) {
    if (this.#record.foreignKeys) return true;
    const me = list.find((p) => p?.participantId === this.participantId);
    if (!me) return false; // not listed: the codes differ from everyone else's, and comparing them tells
    this.#ownKeys ??= publicKeysOf(this.#signing, this.#exchange);
    const own = await this.#ownKeys;
    if (sameSpki(me.signingKey, own.signingKey) && sameSpki(me.exchangeKey, own.exchangeKey)) return false;
    this.#record.foreignKeys = true;
    this.#persist();
    return true;
  }

  #envelope(env) {
    if (!Number.isSafeInteger(env.seq) || env.seq <= this.#lastSeq) return; // duplicate or stale
    this.#lastSeq = env.seq;
    if (!this.#record.talked) {
      this.#record.talked = true;
      this.#persist();
    }
    let own = null;
    if (env.senderId === this.participantId) {
      for (const out of this.#outgoing.values()) {
        if (out.env?.chainId === env.chainId && out.env.chainIndex === env.chainIndex) own = out;
      }
      if (own) {
        clearTimeout(own.busyTimer);
        this.#outgoing.delete(own.id);
      }
    }
    this.#recvQueue = this.#recvQueue.then(() => this.#show(env, own)).catch(() => {});
  }

  async #show(env, own) {
    let sender = this.#people.get(env.senderId);
    if (!sender && !this.#lookedUp.has(env.senderId) && !this.#endReason) {
      // Someone who joined after the list this session holds (a poll reads the room before its envelopes): read it
      // again before showing the message, whose chain may need this first envelope's checkpoint.
      this.#lookedUp.add(env.senderId);
      try {
        this.#room(await this.#conn.call('GET', ''));
      } catch {
        // the relay cannot be reached: shown as from someone unknown
      }
      sender = this.#people.get(env.senderId);
    }
    const rk = this.#rks.get(env.keyVersion);
    let text = null;
    let skip = false;
    if (sender && rk) {
      try {
        const message = await this.#receiver.receive(env, { signingSpki: sender.signingKey, rk });
        if (typeof message.text === 'string') text = message.text;
        else skip = true; // a later kind of message this client does not show
      } catch {
        text = null;
      }
    }
    if (own) this.#emit('outgoing', { ...this.#outView(own), status: 'done' });
    if (skip) return;
    const mine = env.senderId === this.participantId;
    const message = {
      seq: env.seq, senderId: env.senderId, senderName: sender?.pseudonym ?? 'Unknown', text, mine,
      verified: text !== null, createdAt: timeOf(env.createdAt),
    };
    this.#messages.push(message);
    this.#emit('message', { ...message });
    if (!mine && env.seq > this.#record.readSeq) {
      this.#unread++;
      this.#emit('unread', { count: this.#unread });
    }
  }

  // A rotated room key, wrapped for us by the creator (ECDH with our exchange key).
  // A version older than the current one (two rotations in quick succession, the newer adopted first) is kept for
  // reading what was sealed under it; only a newer one becomes the version this person seals under.
  async #adoptKey(keyVersion, wrapped) {
    if (!Number.isInteger(keyVersion) || this.#rks.has(keyVersion) || typeof wrapped !== 'string') return;
    const creator = [...this.#people.values()].find((p) => p.role === 'creator');
    if (!creator) return;
    try {
      const rk = await unwrapFromCreator({
        roomId: this.roomId, keyVersion, wrapped, recipientExchangePrivateKey: this.#exchange.privateKey,
        creatorExchangeSpki: creator.exchangeKey, participantId: this.participantId,
      });
      this.#keepKey(keyVersion, rk);
      this.#persist();
      this.#refreshSafety(this.#currentWithKeys());
    } catch {
      // a wrap that does not open: stay on the old key; sends will be refused with a key-version error
    }
  }

  // Keeps a room key for reading; a newer version becomes the one this person seals under, with a fresh sender chain.
  #keepKey(keyVersion, rk) {
    this.#rks.set(keyVersion, rk);
    if (keyVersion > this.#record.keyVersion) {
      this.#record.keyVersion = keyVersion;
      this.#chain = SenderChain.start();
    }
  }

  // The creator's side of a rotation: a fresh room key, wrapped for each current participant (the creator included)
  // under ECDH with their exchange key, for the relay's current version + 1. The list and the version are read from
  // the relay just before; if someone joined or left in between, the relay refuses and they are read again.
  #rotate() {
    this.#rotating ??= this.#rotateNow()
      .catch((e) => {
        this.#rotateLater();
        throw e;
      })
      .finally(() => { this.#rotating = null; });
    return this.#rotating;
  }

  // While a removal waits for its new key, try again with backoff (2 s doubling to a minute), not only on reconnects.
  #rotateLater() {
    if (this.#endReason || !this.#record.rotationPending || this.#rotationTimer) return;
    const delay = Math.min(60000, 2000 * 2 ** this.#rotationRetries++);
    this.#rotationTimer = setTimeout(() => {
      this.#rotationTimer = null;
      this.#rotate().catch(() => {});
    }, delay);
  }

  async #rotateNow() {
    for (let attempt = 1; ; attempt++) {
      const view = await this.#conn.call('GET', '');
      this.#room(view);
      await this.#recvQueue; // a newer key in the view is adopted
      if (this.#endReason || !this.#record.rotationPending) return;
      if (this.#rotationSent && view?.keyVersion >= this.#rotationSent) {
        this.#rotationDone(); // the rotation sent before landed; only its answer was lost
        return;
      }
      if (!Number.isSafeInteger(view?.keyVersion) || !Array.isArray(view.participants)) {
        throw new SessionError('rotation-failed', 'The relay’s answer did not describe the room.');
      }
      if (await this.#listsForeignKeysForMe(view.participants.filter(isParticipant))) {
        // wrapping a new key for keys the relay chose could hand it the key
        throw new SessionError('foreign-keys', 'The relay lists keys for you that are not yours.');
      }
      const keyVersion = view.keyVersion + 1;
      const rk = generateRoomKey();
      try {
        const wraps = await Promise.all(view.participants.filter(isParticipant).map(async (p) => ({
          participantId: p.participantId,
          wrapped: await wrapForParticipant({
            roomId: this.roomId, keyVersion, rk, creatorExchangePrivateKey: this.#exchange.privateKey,
            recipientExchangeSpki: p.exchangeKey, participantId: p.participantId,
          }),
        })));
        this.#rotationSent = keyVersion;
        await this.#conn.call('POST', '/keys', { keyVersion, wraps });
      } catch (e) {
        rk.fill(0);
        if (!(e instanceof RelayError) || !e.network) this.#rotationSent = 0; // refused, or never sent
        const raced = e instanceof RelayError && ['wraps-incomplete', 'key-version'].includes(e.problem);
        if (raced && attempt < 3) continue;
        throw e;
      }
      this.#keepKey(keyVersion, rk);
      this.#rotationDone();
      return;
    }
  }

  #rotationDone() {
    this.#rotationSent = 0;
    this.#rotationRetries = 0;
    clearTimeout(this.#rotationTimer);
    this.#rotationTimer = null;
    this.#record.rotationPending = false;
    this.#persist();
    this.#refreshSafety(this.#currentWithKeys());
  }

  #currentWithKeys() {
    return this.#participants.map((p) => ({ participantId: p.participantId, ...this.#people.get(p.participantId) }));
  }

  // ------------------------------------------------------------ lifecycle

  // A new socket (or the switch to polling): frames sent on the old one without an ack are sent again once synced.
  #newLink() {
    this.#generation++;
    this.#synced = false;
  }

  #setState(state) {
    if (this.#endReason) return;
    if (state !== 'connected' && state !== this.#state) this.#newLink();
    this.#state = state;
    this.#emit('state', { state, reason: null });
    if (this.#record.rotationPending && (state === 'connected' || state === 'polling')) {
      this.#rotate().catch(() => {}); // a removal whose new key did not reach the relay yet
    }
  }

  async #destroy(reason) {
    if (this.#endReason) return;
    this.#endReason = reason;
    clearTimeout(this.#rotationTimer);
    this.#conn?.stop();
    vault.forgetRoom(this.roomId);
    await vault.forgetKeys(this.participantId);
    for (const rk of this.#rks.values()) rk.fill(0);
    this.#rks.clear();
    this.#token = null;
    this.#state = 'ended';
    for (const out of this.#outgoing.values()) {
      clearTimeout(out.busyTimer);
      if (out.status !== 'sending') continue;
      out.status = 'failed';
      out.error = 'Not sent: the room has ended.';
      this.#emit('outgoing', this.#outView(out));
    }
    this.#emit('state', { state: 'ended', reason });
  }

  #persist() {
    if (this.#endReason) return;
    const keyVersion = this.#record.keyVersion;
    const previousRoomKeys = {};
    for (const [v, k] of this.#rks) if (v !== keyVersion) previousRoomKeys[v] = b64uEncode(k);
    vault.saveRoom({ ...this.#record, sessionToken: this.#token, roomKey: b64uEncode(this.#rks.get(keyVersion)), previousRoomKeys });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Make, store and start a session from a relay admission (creation or join). */
  static async admit(admission, { pseudonym, role, rk, identity }) {
    const record = {
      roomId: admission.roomId, participantId: admission.participantId, sessionToken: admission.sessionToken,
      roomKey: b64uEncode(rk), keyVersion: admission.keyVersion, expiresAt: admission.expiresAt, pseudonym, role,
      people: {}, readSeq: 0,
    };
    const keys = { signing: identity.signing, exchange: identity.exchange };
    await vault.saveKeys(record.participantId, { ...keys, expiresAt: timeOf(record.expiresAt) ?? 0 });
    vault.saveRoom(record);
    const session = new RoomSession(record, keys);
    rk.fill(0);
    return session.start();
  }
}

/**
 * How long to wait before sending again a message the relay refused as busy (503), after `resends` earlier resends
 * and `waitedMs` of waiting: the relay's Retry-After (1 s if it named none, at least 1 s), doubled for each earlier
 * resend up to 15 s, give or take a fifth so that the clients of a busy relay do not come back together. Null once the
 * wait would pass a minute: then the message shows as not sent.
 */
export function busyResendDelay(resends, retryAfterSeconds, waitedMs, random = Math.random) {
  const first = Math.max(1, Number(retryAfterSeconds) || 1) * 1000;
  const delay = Math.round(Math.min(first * 2 ** resends, 15000) * (0.8 + 0.4 * random()));
  return waitedMs + delay > 60000 ? null : delay;
}

/** The text shown under a message the relay did not take, by the refusal's HTTP status (0: no connection). */
export function sendErrorText(status) {
  switch (status) {
    case 0: return 'Not sent: no connection to the relay.';
    case 409: return 'Not sent: the room’s key changed. Try again.';
    case 413: return 'Not sent: the message is too long.';
    case 429: return 'Not sent: you are sending too fast. Wait a few seconds.';
    case 503: return 'Not sent: the relay is busy right now. Try again in a moment.';
    case 401:
    case 403: return 'Not sent: you are no longer in this room.';
    case 404:
    case 410: return 'Not sent: the room has ended.';
    default: return 'Not sent: the relay refused this message.';
  }
}

/**
 * Create a room: the room key and both key pairs are made here, the public keys go to the relay.
 * Resolves to a started RoomSession; rejects with RelayError.
 */
export async function createRoom({ pseudonym, ttlSeconds }) {
  const identity = await newIdentity();
  const rk = generateRoomKey();
  const admission = await api('POST', '/rooms', {
    body: { ttlSeconds, pseudonym, signingKey: identity.signingKey, exchangeKey: identity.exchangeKey },
  });
  return RoomSession.admit(admission, { pseudonym, role: 'creator', rk, identity });
}

/** An invite read from the address bar; its secret stays in memory, in this object only. */
export class PendingInvite {
  #secret;

  /** Use takeInviteFromLocation(). */
  constructor(roomId, secret) {
    this.roomId = roomId;
    this.#secret = secret;
  }

  /** False when the link was not a well-formed invite. */
  get valid() {
    return Boolean(this.#secret);
  }

  /**
   * Join with the chosen pseudonym: spends the invite and unwraps the room key.
   * Resolves to a started RoomSession; rejects with RelayError or SessionError('invite-invalid').
   */
  async join(pseudonym) {
    if (!this.#secret) throw new SessionError('invite-invalid', 'This invite link is not valid.');
    const secret = this.#secret;
    const identity = await newIdentity();
    const admission = await api('POST', `/rooms/${this.roomId}/participants`, {
      body: {
        inviteToken: await inviteTokenFor(secret, this.roomId), pseudonym,
        signingKey: identity.signingKey, exchangeKey: identity.exchangeKey,
      },
    });
    this.#secret = null; // spent, whatever happens next
    let rk;
    try {
      rk = await openInvite({ roomId: this.roomId, keyVersion: admission.keyVersion, secretB64u: secret, wrappedRoomKeyB64u: admission.wrappedRoomKey });
    } catch {
      await api('DELETE', `/rooms/${this.roomId}/participants/${admission.participantId}`, { token: admission.sessionToken }).catch(() => {});
      throw new SessionError('invite-invalid', 'This invite link is not valid.');
    }
    return RoomSession.admit(admission, { pseudonym, role: 'member', rk, identity });
  }
}

/**
 * If the address bar holds a join link, read it, remove it from the address bar at once, and return a PendingInvite
 * (check `valid`); otherwise null.
 */
export function takeInviteFromLocation() {
  const hash = location.hash;
  if (!hash.startsWith('#/join')) return null;
  history.replaceState(null, '', location.pathname);
  const parsed = parseInviteFragment(hash);
  return parsed ? new PendingInvite(parsed.roomId, parsed.inviteSecret) : new PendingInvite(null, null);
}

/** The rooms stored for this tab, as started sessions; rooms whose keys are gone are forgotten. */
export async function restoreRooms() {
  await vault.sweepExpiredKeys();
  const sessions = [];
  for (const record of vault.loadRooms()) {
    const keys = await vault.loadKeys(record.participantId);
    let session = null;
    try {
      if (keys?.signing?.privateKey && keys.exchange?.privateKey) session = new RoomSession(record, keys);
    } catch {
      session = null;
    }
    if (session) sessions.push(session.start());
    else vault.forgetRoom(record.roomId);
  }
  return sessions;
}
