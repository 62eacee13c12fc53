// A message the relay refuses as busy (503) is sent again by the session itself, the same envelope unchanged: not once
// more after it has arrived, not twice when the socket reconnects meanwhile, and not given up when the resend finds no
// relay at all. The session runs with real WebCrypto keys over a scripted socket that stands in for the browser's
// WebSocket (this is a unit test of the session; the relay itself is tested in RelayRestartIT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScriptedSocket, aliceSession, connectedSession, reconnected, sleep, until,
} from './scripted-socket.mjs';

/** Alice says hello and the relay refuses it as busy; returns the message's id and the frame it was sent in. */
async function refusedAsBusy(session, socket) {
  const id = session.sendText('hello');
  await until(() => socket.sends().length === 1, 'the first send');
  const first = socket.sends()[0];
  assert.equal(first.id, id);
  socket.deliver({ type: 'error', id, code: 503, message: 'busy', retryAfter: 1 });
  return { id, first };
}

test('a busy refusal is sent again unchanged, and not again once the message has arrived', async () => {
  const { session, participantId, views, socket } = await connectedSession();
  const { id, first } = await refusedAsBusy(session, socket);
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

test('a reconnect while a resend waits does not send it twice', async () => {
  const { session, socket } = await connectedSession();
  const { first } = await refusedAsBusy(session, socket);

  // The session reconnects (within 0.5 s) before the resend is due (0.8–1.2 s): the new socket's catch-up, which
  // sends again what the old socket left unanswered, leaves this message to its timer.
  const again = await reconnected(socket);
  await sleep(100);
  assert.equal(again.sends().length, 0, 'not sent by the catch-up while its timer waits');
  await until(() => again.sends().length === 1, 'the resend on the new socket', 2000);
  assert.deepEqual(again.sends()[0], first, 'the same envelope, unchanged');
  await sleep(300);
  assert.equal(again.sends().length, 1, 'sent once');
  session.close();
});

test('a resend that finds no relay at all waits again instead of failing', async () => {
  let restSends = 0;
  globalThis.fetch = async () => {
    restSends++;
    throw new TypeError('connection refused'); // the relay is restarting
  };
  const { session, views, socket } = await connectedSession();
  const { first } = await refusedAsBusy(session, socket);
  socket.drop();

  // With no socket the resend goes by REST, finds nothing listening, and waits again.
  await until(() => restSends === 1, 'the resend by REST', 2000);
  await until(() => views.at(-1).busy === true, 'waiting again');
  assert.ok(!views.some((v) => v.status === 'failed'), 'not shown as not sent');

  // The relay is back: the next resend goes on the new socket.
  const again = ScriptedSocket.opened.at(-1);
  assert.notEqual(again, socket, 'the session reconnected');
  again.accept();
  await until(() => again.sends().length === 1, 'the resend on the new socket', 3000);
  assert.deepEqual(again.sends()[0], first, 'the same envelope, unchanged');
  assert.equal(restSends, 1);
  session.close();
});

test('a message sent while an earlier one waits to go again carries a checkpoint of its own', async () => {
  const { session, socket } = await connectedSession();
  const { id } = await refusedAsBusy(session, socket); // index 0 waits for its resend
  const later = session.sendText('second');
  await until(() => socket.sends().length === 2, 'the second message');
  const second = socket.sends()[1];
  assert.equal(second.chainIndex, 1);
  assert.notEqual(second.checkpoint, null, 'readable by everyone even if it is stored first');
  socket.deliver({ type: 'ack', id: later, seq: 1 });
  await until(() => socket.sends().length === 3, 'the resend', 2000);
  socket.deliver({ type: 'ack', id, seq: 2 });
  await sleep(50);
  session.sendText('third'); // everything before it is stored: no checkpoint needed
  await until(() => socket.sends().length === 4, 'the third message');
  assert.equal(socket.sends()[3].chainIndex, 2);
  assert.equal(socket.sends()[3].checkpoint, null);
  session.close();
});

test('in polling mode a send refused as busy over REST goes again after its Retry-After, unchanged', async () => {
  const posts = [];
  let stored = [];
  globalThis.fetch = async (url, init) => {
    const path = new URL(url, 'http://relay.test').pathname;
    const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers });
    if (init.method === 'POST' && path.endsWith('/envelopes')) {
      posts.push({ at: Date.now(), body: JSON.parse(init.body) });
      if (posts.length === 1) {
        return json(503, { type: 'https://mikrotext.org/problems/relay-busy', status: 503, detail: 'busy' },
          { 'Content-Type': 'application/problem+json', 'Retry-After': '1' });
      }
      return json(201, { seq: 1 });
    }
    if (path.endsWith('/envelopes')) return json(200, { envelopes: stored });
    return json(200, { participants: [], keyVersion: 1 });
  };
  const { session, participantId, views } = await aliceSession();
  const states = [];
  session.addEventListener('outgoing', (e) => views.push(e.detail));
  session.addEventListener('state', (e) => states.push(e.detail.state));
  session.start();

  // No socket ever opens (a proxy that refuses the upgrade): after three tries the session polls over REST.
  for (let tries = 0; !states.includes('polling'); tries++) {
    assert.ok(tries < 3, 'polling after three failed sockets');
    const socket = ScriptedSocket.opened.at(-1);
    socket.drop();
    await until(() => states.includes('polling') || ScriptedSocket.opened.at(-1) !== socket, 'the next try', 3000);
  }
  const id = session.sendText('hello');
  await until(() => posts.length === 1, 'the send by REST');
  await until(() => views.at(-1)?.busy === true, 'the message shown as waiting for the relay');
  await until(() => posts.length === 2, 'the resend by REST', 2000);
  const waited = posts[1].at - posts[0].at;
  assert.ok(waited >= 800 && waited <= 1500, `resent after the relay's Retry-After with jitter (${waited} ms)`);
  assert.deepEqual(posts[1].body, posts[0].body, 'the same envelope, unchanged');

  // The next poll finds it stored: it is shown as arrived, and never as not sent.
  stored = [{ ...posts[1].body, seq: 1, senderId: participantId, createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString() }];
  await until(() => views.at(-1).status === 'done' && views.at(-1).id === id, 'the message shown as arrived', 5000);
  assert.equal(posts.length, 2);
  assert.ok(!views.some((v) => v.status === 'failed'), 'never shown as not sent');
  session.close();
});

test('a reconnect while a message waits to be sealed under a new key does not send its old envelope', async () => {
  let answerRoom;
  globalThis.fetch = () => new Promise((resolve) => { answerRoom = resolve; });
  const { session, views, socket } = await connectedSession();
  const id = session.sendText('sealed under the old key');
  await until(() => socket.sends().length === 1, 'the send');
  socket.deliver({ type: 'error', id, code: 409, message: 'The key version is not the room’s current one' });
  await until(() => answerRoom, 'the room read before sealing it again');
  const again = await reconnected(socket);
  await sleep(200);
  assert.equal(again.sends().length, 0, 'the old envelope is not sent again while it waits to be sealed anew');

  // The room has no newer key after all: the message fails, once, and nothing more is sent.
  answerRoom(new Response(JSON.stringify({ keyVersion: 1, participants: [] }), { status: 200 }));
  await until(() => views.at(-1).status === 'failed', 'the message shown as not sent');
  await sleep(100);
  assert.equal(again.sends().length, 0);
  session.close();
});
