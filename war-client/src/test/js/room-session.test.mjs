// What a sender is told when the relay does not take a message: each refusal names its cause, and says whether
// trying again can help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyResendDelay, sendErrorText } from '../../main/webapp/js/room-session.js';

test('a busy relay (503) is a moment to wait, not a refusal of the message', () => {
  assert.equal(sendErrorText(503), 'Not sent: the relay is busy right now. Try again in a moment.');
});

test('each other refusal names its cause', () => {
  assert.match(sendErrorText(0), /no connection/);
  assert.match(sendErrorText(409), /key changed/);
  assert.match(sendErrorText(413), /too long/);
  assert.match(sendErrorText(429), /too fast/);
  assert.match(sendErrorText(401), /no longer in this room/);
  assert.match(sendErrorText(403), /no longer in this room/);
  assert.match(sendErrorText(404), /has ended/);
  assert.match(sendErrorText(410), /has ended/);
  assert.equal(sendErrorText(400), 'Not sent: the relay refused this message.');
});

test('a message refused as busy goes again after the relay\'s Retry-After, doubling up to 15 s, for a minute', () => {
  const middle = () => 0.5; // no jitter
  assert.equal(busyResendDelay(0, 1, 0, middle), 1000);
  assert.equal(busyResendDelay(0, null, 0, middle), 1000, 'no Retry-After: 1 s');
  assert.equal(busyResendDelay(0, 0, 0, middle), 1000, 'never sooner than 1 s');
  assert.equal(busyResendDelay(0, 5, 0, middle), 5000, 'the database is away: 5 s');
  const delays = [];
  let waited = 0;
  for (let resends = 0; ; resends++) {
    const delay = busyResendDelay(resends, 1, waited, middle);
    if (delay === null) break;
    delays.push(delay);
    waited += delay;
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.ok(waited <= 60000, `waited ${waited} ms`);
});

test('the clients of a busy relay come back spread over a fifth either way', () => {
  assert.equal(busyResendDelay(1, 1, 0, () => 0), 1600);
  assert.equal(busyResendDelay(1, 1, 0, () => 0.999999), 2400);
  assert.equal(busyResendDelay(9, 1, 0, () => 0), 12000, 'the cap is jittered too');
  assert.equal(busyResendDelay(0, 1, 59500, () => 0.5), null, 'past a minute: not sent');
});
