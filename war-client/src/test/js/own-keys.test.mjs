// A relay that lists a person with keys that are not theirs is caught by that person's own client. A relay that
// swapped everyone's keys the same way in every list would leave every safety code equal, so comparing codes would not
// tell; this check does. The session runs with real WebCrypto keys over a scripted socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateExchangeKeyPair, generateSigningKeyPair } from '../../main/webapp/js/mtx1.js';
import { connectedSession, listed, person, sleep, spki, until } from './scripted-socket.mjs';

/** Alice as the relay should list her, and Bob. */
async function honestList(participantId, keys) {
  return [await listed({ participantId, ...keys }, 'Alice', 'creator'), await listed(await person(), 'Bob', 'member')];
}

/** `list` with Alice's `field` (signingKey or exchangeKey) swapped for a key the relay holds. */
async function forged(list, field) {
  const relays = field === 'signingKey' ? await generateSigningKeyPair() : await generateExchangeKeyPair();
  return [{ ...list[0], [field]: await spki(relays) }, list[1]];
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
    socket.deliver({ type: 'participants', participants: await forged(list, swapped) });
    await until(() => session.safety.forged, 'the relay caught');
    assert.equal(session.safety.code, '', 'no code to compare');
    session.acknowledgeSafety();
    assert.equal(session.safety.forged, true, 'not something to mark as checked');

    // The relay lists her honestly again: it is still not trusted in this room.
    socket.deliver({ type: 'participants', participants: list });
    await until(() => session.participants.length === 2, 'the new list');
    await sleep(100);
    assert.deepEqual(session.safety, { code: '', changed: false, forged: true });
    session.close();
  });
}

test('an honest list right after a forged one does not hide the forgery', async () => {
  const { session, participantId, keys, socket } = await connectedSession();
  const list = await honestList(participantId, keys);
  socket.deliver({ type: 'participants', participants: await forged(list, 'signingKey') });
  socket.deliver({ type: 'participants', participants: list }); // back to back, as a ready's list and the next
  await until(() => session.participants.length === 2, 'both lists applied');
  await sleep(200);
  assert.deepEqual(session.safety, { code: '', changed: false, forged: true });
  session.close();
});

test('the creator wraps no new room key for a list that gives her keys not hers', async () => {
  const { session, participantId, keys, socket } = await connectedSession();
  const list = await honestList(participantId, keys);
  const forgedList = await forged(list, 'exchangeKey');
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push(`${init.method} ${new URL(url, 'http://relay.test').pathname.split('/').slice(4).join('/')}`);
    if (init.method === 'DELETE') return new Response(null, { status: 204 });
    return new Response(JSON.stringify({ keyVersion: 1, participants: forgedList }), { status: 200 });
  };
  socket.deliver({ type: 'participants', participants: list });
  await until(() => /\d/.test(session.safety.code), 'a code');

  await assert.rejects(session.remove(list[1].participantId), (e) => e.code === 'rotation-pending');
  assert.deepEqual(calls, [`DELETE participants/${list[1].participantId}`, 'GET '], 'no POST …/keys');
  await until(() => session.safety.forged, 'the relay caught');
  session.close();
});
