// What a sender is told when the relay does not take a message: each refusal names its cause, and says whether
// trying again can help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendErrorText } from '../../main/webapp/js/room-session.js';

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
