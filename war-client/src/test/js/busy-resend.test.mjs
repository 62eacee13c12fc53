// A message the relay refuses as busy (503) is sent again by the session itself, the same envelope unchanged, and not
// once more after it has arrived. The session runs with real WebCrypto keys over a scripted socket that stands in for
// the browser's WebSocket (this is a unit test of the session; the relay itself is tested in RelayRestartIT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64uEncode, generateExchangeKeyPair, generateSigningKeyPair } from '../../main/webapp/js/mtx1.js';

class ScriptedSocket {
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
  sends() { return this.sent.filter((f) => f.type === 'send'); }
}

globalThis.WebSocket = ScriptedSocket;
globalThis.location = { protocol: 'http:', host: 'relay.test' };
const { RoomSession } = await import('../../main/webapp/js/room-session.js');

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function until(condition, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await sleep(10);
  }
}

const random = (n) => b64uEncode(globalThis.crypto.getRandomValues(new Uint8Array(n)));

test('a busy refusal is sent again unchanged, and not again once the message has arrived', async () => {
  const keys = { signing: await generateSigningKeyPair(), exchange: await generateExchangeKeyPair() };
  const participantId = random(16);
  const session = new RoomSession({
    roomId: random(16), participantId, pseudonym: 'Alice', role: 'creator', keyVersion: 1,
    sessionToken: random(32), roomKey: random(32), expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  }, keys);
  const views = [];
  session.addEventListener('outgoing', (e) => views.push(e.detail));
  session.start();
  const socket = ScriptedSocket.opened.at(-1);
  socket.open();
  assert.equal(socket.sent[0].type, 'hello');
  socket.deliver({ type: 'ready' });
  socket.deliver({ type: 'participants', participants: [] });

  const id = session.sendText('hello');
  await until(() => socket.sends().length === 1, 'the first send');
  const first = socket.sends()[0];
  assert.equal(first.id, id);

  socket.deliver({ type: 'error', id, code: 503, message: 'busy', retryAfter: 1 });
  assert.deepEqual(views.at(-1), { id, text: 'hello', status: 'sending', error: null, busy: true });
  assert.equal(session.outgoing[0].busy, true, 'the view of a room switched back to says so too');
  await sleep(700);
  assert.equal(socket.sends().length, 1, 'not before 0.8 s');
  await until(() => socket.sends().length === 2, 'the resend', 1500);
  assert.deepEqual(socket.sends()[1], first, 'the same envelope, unchanged');
  assert.equal(views.at(-1).busy, false);

  // Refused as busy again, and then it arrives after all (as one stored before a shutdown would): the second resend,
  // due 1.6–2.4 s later, never goes.
  socket.deliver({ type: 'error', id, code: 503, message: 'busy', retryAfter: 1 });
  assert.equal(views.at(-1).busy, true);
  const { type, id: ignored, ...envelope } = first;
  socket.deliver({ ...envelope, type: 'envelope', seq: 1, senderId: participantId,
    createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3600_000).toISOString() });
  await until(() => views.at(-1).status === 'done', 'the message shown as arrived');
  await sleep(2600);
  assert.equal(socket.sends().length, 2, 'no resend of a message that arrived');
  assert.deepEqual(session.outgoing, []);
  assert.ok(!views.some((v) => v.status === 'failed'), 'never shown as not sent');
  session.close();
});
