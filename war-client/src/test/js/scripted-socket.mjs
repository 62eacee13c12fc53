// A scripted stand-in for the browser's WebSocket, and a RoomSession of Alice's with real WebCrypto keys on it, for the
// session's unit tests (the relay itself is tested in it-tests). Importing this module installs the stand-in.
import assert from 'node:assert/strict';
import {
  b64uEncode, exportSpki, generateExchangeKeyPair, generateSigningKeyPair,
} from '../../main/webapp/js/mtx1.js';

export class ScriptedSocket {
  static OPEN = 1;
  static opened = [];
  readyState = 0;
  sent = [];

  constructor(url) {
    this.url = url;
    ScriptedSocket.opened.push(this);
  }

  send(data) { this.sent.push(JSON.parse(data)); }
  close() { this.readyState = 3; }
  open() {
    this.readyState = ScriptedSocket.OPEN;
    this.onopen();
  }
  deliver(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
  /** The relay answers the hello: the socket is live, caught up and told who is in the room. */
  accept() {
    this.open();
    assert.equal(this.sent.at(-1).type, 'hello');
    this.deliver({ type: 'ready' });
    this.deliver({ type: 'participants', participants: [] });
  }
  drop() {
    this.readyState = 3;
    this.onclose({ code: 1006, reason: '' });
  }
  sends() { return this.sent.filter((f) => f.type === 'send'); }
}

globalThis.WebSocket = ScriptedSocket;
globalThis.location = { protocol: 'http:', host: 'relay.test' };
export const { RoomSession } = await import('../../main/webapp/js/room-session.js');

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export async function until(condition, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await sleep(10);
  }
}

export const random = (n) => b64uEncode(globalThis.crypto.getRandomValues(new Uint8Array(n)));

/** A public key as the relay lists it: base64url SPKI. */
export const spki = async (keyPair) => b64uEncode(await exportSpki(keyPair.publicKey));

/** Someone with a fresh participant id and fresh signing and exchange keys. */
export async function person() {
  const [signing, exchange] = await Promise.all([generateSigningKeyPair(), generateExchangeKeyPair()]);
  return { participantId: random(16), signing, exchange };
}

/** `who`'s entry in a participant list, with their own keys, as an honest relay gives it. */
export async function listed(who, pseudonym, role) {
  return { participantId: who.participantId, pseudonym, role, signingKey: await spki(who.signing),
    exchangeKey: await spki(who.exchange) };
}

/** Drops `socket` and returns the session's next one, accepted once the session has opened it (within a second). */
export async function reconnected(socket) {
  socket.drop();
  await until(() => ScriptedSocket.opened.at(-1) !== socket, 'the reconnect', 1000);
  const again = ScriptedSocket.opened.at(-1);
  again.accept();
  return again;
}

/** A session of Alice's (the room's creator), not yet started, with her keys and the views of her outgoing messages. */
export async function aliceSession() {
  const { participantId, ...keys } = await person();
  const roomId = random(16);
  const roomKey = random(32);
  const session = new RoomSession({
    roomId, participantId, pseudonym: 'Alice', role: 'creator', keyVersion: 1,
    sessionToken: random(32), roomKey, expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  }, keys);
  const views = [];
  session.addEventListener('outgoing', (e) => views.push(e.detail));
  return { session, participantId, roomId, roomKey, keys, views };
}

/** A started session of Alice's on a socket that is open and past `ready`. */
export async function connectedSession() {
  const alice = await aliceSession();
  alice.session.start();
  const socket = ScriptedSocket.opened.at(-1);
  socket.accept();
  return { ...alice, socket };
}
