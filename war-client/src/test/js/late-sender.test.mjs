// An envelope from someone the session's participant list does not hold yet (they joined after it was read, as a
// poll that reads the room before its envelopes can see) is not shown as from someone unknown: the session reads the
// room again first. The session runs with real WebCrypto keys over a scripted socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SenderChain, b64uDecode, encryptEnvelope } from '../../main/webapp/js/mtx1.js';
import { connectedSession, listed, person, until } from './scripted-socket.mjs';

test('a message from someone who joined after the list was read is shown as theirs, verified', async () => {
  const { session, participantId, roomId, roomKey, keys, socket } = await connectedSession();
  const dave = await person();
  const list = [await listed({ participantId, ...keys }, 'Alice', 'creator'), await listed(dave, 'Dave', 'member')];
  let reads = 0;
  globalThis.fetch = async () => {
    reads++;
    return new Response(JSON.stringify({ keyVersion: 1, participants: list }), { status: 200 });
  };
  const messages = [];
  session.addEventListener('message', (e) => messages.push(e.detail));
  socket.deliver({ type: 'participants', participants: list.slice(0, 1) }); // Dave is not in it yet

  const chain = SenderChain.start();
  for (const text of ['first from Dave', 'second from Dave']) {
    const env = await encryptEnvelope({ roomId, senderId: dave.participantId, keyVersion: 1,
      rk: b64uDecode(roomKey, 32), chain, signingKey: dave.signing.privateKey, message: { text } });
    socket.deliver({ ...env, type: 'envelope', seq: messages.length + 1, senderId: dave.participantId,
      createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    await until(() => messages.length === (text.startsWith('first') ? 1 : 2), 'the message shown');
  }
  assert.deepEqual(messages.map((m) => [m.senderName, m.text, m.verified]),
    [['Dave', 'first from Dave', true], ['Dave', 'second from Dave', true]]);
  assert.equal(reads, 1, 'the room read once for him');
  session.close();
});
