// A relay that lists a person with keys that are not theirs is caught by that person's own client. A relay that
// swapped everyone's keys the same way in every list would leave every safety code equal, so comparing codes would not
// tell; this check does. The session runs with real WebCrypto keys over a scripted socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64uEncode, exportSpki, generateExchangeKeyPair, generateSigningKeyPair } from '../../main/webapp/js/mtx1.js';
import { connectedSession, random, until } from './scripted-socket.mjs';

const spki = async (key) => b64uEncode(await exportSpki(key.publicKey));

/** Alice as the relay should list her, and Bob. */
async function honestList(participantId, keys) {
  const bob = { signing: await generateSigningKeyPair(), exchange: await generateExchangeKeyPair() };
  return [
    { participantId, pseudonym: 'Alice', role: 'creator',
      signingKey: await spki(keys.signing), exchangeKey: await spki(keys.exchange) },
    { participantId: random(16), pseudonym: 'Bob', role: 'member',
      signingKey: await spki(bob.signing), exchangeKey: await spki(bob.exchange) },
  ];
}

test('a list with her own keys gives Alice a safety code', async () => {
  const { session, participantId, keys, socket } = await connectedSession();
  socket.deliver({ type: 'participants', participants: await honestList(participantId, keys) });
  await until(() => session.participants.length === 2 && /^(\d{5} ){7}\d{5}$/.test(session.safety.code), 'a code');
  assert.equal(session.safety.forged, false);
  session.close();
});

for (const swapped of ['signingKey', 'exchangeKey']) {
  test(`a list that gives Alice a ${swapped} not hers is caught, for good`, async () => {
    const { session, participantId, keys, socket } = await connectedSession();
    const list = await honestList(participantId, keys);
    const relays = await generateSigningKeyPair();
    socket.deliver({ type: 'participants', participants: [{ ...list[0], [swapped]: await spki(relays) }, list[1]] });
    await until(() => session.safety.forged, 'the relay caught');
    assert.equal(session.safety.code, '', 'no code to compare');
    session.acknowledgeSafety();
    assert.equal(session.safety.forged, true, 'not something to mark as checked');

    // The relay lists her honestly again: it is still not trusted in this room.
    socket.deliver({ type: 'participants', participants: list });
    await until(() => session.participants.length === 2, 'the new list');
    await new Promise((resolve) => { setTimeout(resolve, 100); });
    assert.deepEqual(session.safety, { code: '', changed: false, forged: true });
    session.close();
  });
}

test('an honest list right after a forged one does not hide the forgery', async () => {
  const { session, participantId, keys, socket } = await connectedSession();
  const list = await honestList(participantId, keys);
  const relays = await generateSigningKeyPair();
  socket.deliver({ type: 'participants', participants: [{ ...list[0], signingKey: await spki(relays) }, list[1]] });
  socket.deliver({ type: 'participants', participants: list }); // back to back, as a ready's list and the next
  await until(() => session.participants.length === 2, 'both lists applied');
  await new Promise((resolve) => { setTimeout(resolve, 200); });
  assert.deepEqual(session.safety, { code: '', changed: false, forged: true });
  session.close();
});

test('the creator wraps no new room key for a list that gives her keys not hers', async () => {
  const { session, participantId, keys, socket } = await connectedSession();
  const list = await honestList(participantId, keys);
  const relays = await generateExchangeKeyPair();
  const forged = [{ ...list[0], exchangeKey: await spki(relays) }, list[1]];
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push(`${init.method} ${new URL(url, 'http://relay.test').pathname.split('/').slice(4).join('/')}`);
    if (init.method === 'DELETE') return new Response(null, { status: 204 });
    return new Response(JSON.stringify({ keyVersion: 1, participants: forged }), { status: 200 });
  };
  socket.deliver({ type: 'participants', participants: list });
  await until(() => /\d/.test(session.safety.code), 'a code');

  await assert.rejects(session.remove(list[1].participantId), (e) => e.code === 'rotation-pending');
  assert.deepEqual(calls, [`DELETE participants/${list[1].participantId}`, 'GET '], 'no POST …/keys');
  await until(() => session.safety.forged, 'the relay caught');
  session.close();
});
