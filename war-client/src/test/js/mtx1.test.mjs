// Unit tests of the MTX1 client crypto module against docs/protocol/mtx1-vectors.json.
// Run: node --test war-client/src/test/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as m from '../../main/webapp/js/mtx1.js';

const {
  b64uEncode, b64uDecode, hexEncode, hexDecode, utf8Encode, frame, hkdf, checkpointKey, roomKeyFingerprint,
  chainStep, SenderChain, pad, unpad, sealMessage, openMessage, sealCheckpoint, openCheckpoint,
  envelopeSigningInput, signBytes, verifyBytes, encryptEnvelope, ReceiverState, safetyCode,
  inviteTokenFor, createInvite, openInvite, formatInviteFragment, parseInviteFragment,
  wrapForParticipant, unwrapFromCreator, importSigningSpki, importExchangeSpki, exportSpki,
  generateSigningKeyPair, generateExchangeKeyPair, generateRoomKey,
  MalformedError, BadSignatureError, ReplayError, TooFarError, UndecryptableError,
} = m;

const V = JSON.parse(await readFile(new URL('../../../../docs/protocol/mtx1-vectors.json', import.meta.url), 'utf8'));
const subtle = globalThis.crypto.subtle;
const h = hexDecode;
const hx = hexEncode;
const { inputs, keys } = V;
const byKind = (kind) => V.vectors.filter((v) => v.kind === kind);
const keyAt = (ref) => ref.split('.').reduce((o, k) => o[k], V); // "keys.aliceExchange"

function importPrivate(entry, format, alg) {
  const usages = alg === 'ECDSA' ? ['sign'] : ['deriveBits'];
  const data = format === 'pkcs8' ? h(entry.pkcs8Hex) : entry.jwk;
  return subtle.importKey(format, data, { name: alg, namedCurve: 'P-256' }, false, usages);
}

const hdr = (v, chainIndex = v.chainIndex) => ({
  roomId: v.roomId, senderId: v.senderId, keyVersion: v.keyVersion, chainId: h(v.chainIdHex), chainIndex,
});

// ------------------------------------------------------------ one check per vector kind

const checks = {
  base64url(v) {
    assert.equal(b64uEncode(h(v.hex)), v.b64u);
    assert.equal(hx(b64uDecode(v.b64u)), v.hex);
    assert.equal(hx(b64uDecode(v.b64u, v.hex.length / 2)), v.hex);
    assert.throws(() => b64uDecode(v.b64u, v.hex.length / 2 + 1), MalformedError);
  },

  'base64url-invalid'(v) {
    assert.throws(() => b64uDecode(v.b64u), MalformedError);
  },

  async hkdf(v) {
    assert.equal(v.saltAscii, 'MTX1');
    assert.equal(hx(await hkdf(h(v.ikmHex), v.info)), v.okmHex);
  },

  frame(v) {
    const fields = v.fields.map((f) =>
      'string' in f ? f.string : 'int' in f ? f.int : 'hex' in f ? h(f.hex) : f.absent ? null : assert.fail('field kind'));
    assert.equal(hx(frame(v.tag, ...fields)), v.frameHex);
  },

  async chain(v) {
    let ck = h(v.ck0Hex);
    for (let i = 0; i < v.chainKeysHex.length; i++) {
      assert.equal(hx(ck), v.chainKeysHex[i]);
      const { messageKey, nextChainKey } = await chainStep(ck);
      assert.equal(hx(messageKey), v.messageKeysHex[i]);
      ck = nextChainKey;
    }
    const chain = SenderChain.start(h(v.ck0Hex), h(inputs.chainIdHex));
    const steps = await Promise.all(v.chainKeysHex.map(() => chain.next())); // concurrent calls stay ordered
    steps.forEach((s, i) => {
      assert.equal(s.chainIndex, i);
      assert.equal(hx(s.chainKey), v.chainKeysHex[i]);
      assert.equal(hx(s.messageKey), v.messageKeysHex[i]);
    });
  },

  'padding-lengths'(v) {
    for (const { plaintextLength: n, paddedLength } of v.cases) {
      const padded = pad(new Uint8Array(n).fill(0x41));
      assert.equal(padded.length, paddedLength, `n=${n}`);
      assert.equal(padded[n], 0x80);
      assert.ok(padded.subarray(n + 1).every((b) => b === 0));
      assert.equal(unpad(padded).length, n);
    }
  },

  async message(v) {
    const header = hdr(v);
    assert.equal(hx(utf8Encode(v.plaintextUtf8)), v.plaintextHex);
    assert.equal(hx(pad(h(v.plaintextHex))), v.paddedHex);
    assert.equal(hx(frame('MTX1-MESSAGE', v.roomId, v.senderId, v.keyVersion, h(v.chainIdHex), v.chainIndex)), v.aadHex);
    const chainVector = byKind('chain')[0];
    if (v.chainIndex < chainVector.messageKeysHex.length) assert.equal(v.mkHex, chainVector.messageKeysHex[v.chainIndex]);
    const message = JSON.parse(v.plaintextUtf8);
    assert.equal(JSON.stringify(message), v.plaintextUtf8);
    const sealed = await sealMessage(h(v.mkHex), header, message, h(v.nonceHex));
    assert.equal(hx(sealed.ciphertext), v.ciphertextHex);
    assert.equal(b64uEncode(sealed.ciphertext), v.ciphertextB64u);
    assert.deepEqual(await openMessage(h(v.mkHex), header, h(v.nonceHex), h(v.ciphertextHex)), message);
    await assert.rejects(openMessage(h(v.mkHex), hdr(v, v.chainIndex + 1), h(v.nonceHex), h(v.ciphertextHex)), UndecryptableError);
  },

  async checkpoint(v) {
    const header = hdr(v);
    assert.equal(hx(await checkpointKey(h(v.rkHex), v.roomId, v.keyVersion)), v.cpkHex);
    assert.equal(hx(frame('MTX1-CHECKPOINT', v.roomId, v.senderId, v.keyVersion, h(v.chainIdHex), v.chainIndex)), v.aadHex);
    const cp = await sealCheckpoint(h(v.rkHex), header, h(v.ckHex), h(v.nonceHex));
    assert.equal(hx(cp), v.checkpointHex);
    assert.equal(b64uEncode(cp), v.checkpointB64u);
    assert.equal(hx(await openCheckpoint(h(v.rkHex), header, b64uDecode(v.checkpointB64u, 60))), v.ckHex);
    const tampered = h(v.checkpointHex);
    tampered[20] ^= 1;
    await assert.rejects(openCheckpoint(h(v.rkHex), header, tampered), UndecryptableError);
    await assert.rejects(openCheckpoint(h(v.rkHex), hdr(v, v.chainIndex + 16), h(v.checkpointHex)), UndecryptableError);
    await assert.rejects(openCheckpoint(h(inputs.rk2Hex), header, h(v.checkpointHex)), UndecryptableError);
  },

  async 'receiver-from-checkpoint'(v) {
    // Low level: CK_0 from the checkpoint, ratchet to CK_3, MK_3, decrypt.
    let ck = await openCheckpoint(h(v.rkHex), hdr(v, v.checkpointIndex), h(v.checkpointHex));
    for (let i = v.checkpointIndex; i < v.messageIndex; i++) ck = (await chainStep(ck)).nextChainKey;
    const { messageKey } = await chainStep(ck);
    const msg = await openMessage(messageKey, hdr(v, v.messageIndex), h(v.nonceHex), h(v.ciphertextHex));
    assert.deepEqual(msg, JSON.parse(v.expectedPlaintextUtf8));

    // Through ReceiverState, with the signed wire envelopes of the same chain.
    const wires = byKind('envelope-signature').map((e) => ({ ...e.wireEnvelope, senderId: e.senderId }));
    const cpEnv = wires.find((e) => e.chainIndex === v.checkpointIndex);
    const msgEnv = wires.find((e) => e.chainIndex === v.messageIndex);
    assert.equal(hx(b64uDecode(cpEnv.checkpoint)), v.checkpointHex);
    assert.equal(hx(b64uDecode(msgEnv.ciphertext)), v.ciphertextHex);
    const opts = { signingSpki: keys.aliceSigning.spkiB64u, rk: h(v.rkHex) };
    const rx = new ReceiverState(v.roomId);
    await assert.rejects(rx.receive(msgEnv, opts), UndecryptableError); // no state, no checkpoint on it
    await rx.receive(cpEnv, opts);
    assert.deepEqual(await rx.receive(msgEnv, opts), JSON.parse(v.expectedPlaintextUtf8));
    await assert.rejects(rx.receive(msgEnv, opts), ReplayError);
    await assert.rejects(rx.receive(cpEnv, opts), ReplayError);
  },

  async 'envelope-signature'(v) {
    const wire = v.wireEnvelope;
    const bob = inputs.participants.bob;
    assert.equal(v.signerSpkiHex, keys.aliceSigning.spkiHex);
    assert.equal(hx(envelopeSigningInput(v.roomId, v.senderId, wire)), v.signingInputHex);
    assert.equal(hx(envelopeSigningInput(v.roomId, bob, wire)), v.otherSenderInputHex);
    assert.equal(hx(b64uDecode(wire.signature, 64)), v.validSignatureHex);

    const pub = await importSigningSpki(h(v.signerSpkiHex));
    assert.equal(await verifyBytes(pub, h(v.signingInputHex), h(v.validSignatureHex)), v.mustVerify);
    assert.equal(v.tamperedSignatureMustFail && v.tamperedInputMustFailWithValidSignature, true);
    assert.equal(await verifyBytes(pub, h(v.signingInputHex), h(v.tamperedSignatureHex)), false);
    assert.equal(await verifyBytes(pub, h(v.tamperedInputHex), h(v.validSignatureHex)), false);
    assert.equal(await verifyBytes(pub, h(v.otherSenderInputHex), h(v.validSignatureHex)), false);
    assert.equal(await verifyBytes(await importSigningSpki(keys.bobSigning.spkiB64u), h(v.signingInputHex), h(v.validSignatureHex)), false);

    // Sign-then-verify with the vector's private key, imported from PKCS#8 and from JWK.
    for (const format of ['pkcs8', 'jwk']) {
      const priv = await importPrivate(keys.aliceSigning, format, 'ECDSA');
      const sig = await signBytes(priv, h(v.signingInputHex));
      assert.equal(sig.length, 64);
      assert.equal(await verifyBytes(pub, h(v.signingInputHex), sig), true, format);
      assert.equal(await verifyBytes(pub, h(v.otherSenderInputHex), sig), false, format);
    }

    // The receiver verifies before anything else.
    const env = { ...wire, senderId: v.senderId };
    const rk = h(inputs.rkHex);
    const chainVector = byKind('chain')[0];
    const rx = new ReceiverState(v.roomId);
    await assert.rejects(rx.receive({ ...env, signature: b64uEncode(h(v.tamperedSignatureHex)) }, { signingSpki: keys.aliceSigning.spkiB64u, rk }), BadSignatureError);
    await assert.rejects(rx.receive(env, { signingSpki: keys.bobSigning.spkiB64u, rk }), BadSignatureError);
    await assert.rejects(rx.receive({ ...env, senderId: bob }, { signingSpki: keys.aliceSigning.spkiB64u, rk }), BadSignatureError);
    if (wire.checkpoint) {
      const msg = await rx.receive(env, { signingSpki: keys.aliceSigning.spkiB64u, rk });
      const mv = byKind('message').find((x) => x.chainIndex === wire.chainIndex);
      assert.deepEqual(msg, JSON.parse(mv.plaintextUtf8));
    } else {
      await assert.rejects(rx.receive(env, { signingSpki: keys.aliceSigning.spkiB64u, rk }), UndecryptableError);
    }

    // encryptEnvelope reproduces every wire field but the (randomized) signature.
    const mv = byKind('message').find((x) => x.chainIndex === wire.chainIndex);
    const chain = SenderChain.start(h(chainVector.ck0Hex), h(inputs.chainIdHex));
    for (let i = 0; i < wire.chainIndex; i++) await chain.next();
    const signingKey = await importPrivate(keys.aliceSigning, 'pkcs8', 'ECDSA');
    const out = await encryptEnvelope({
      roomId: v.roomId, senderId: v.senderId, keyVersion: wire.keyVersion, rk, chain, signingKey,
      message: JSON.parse(mv.plaintextUtf8), nonce: h(mv.nonceHex), checkpointNonce: h(inputs.nonces.checkpoint0Hex),
    });
    const { signature, ...rest } = out;
    const { signature: _ignored, ...expected } = wire;
    assert.deepEqual(rest, expected);
    assert.equal(await verifyBytes(pub, envelopeSigningInput(v.roomId, v.senderId, out), b64uDecode(signature, 64)), true);
  },

  async 'safety-code'(v) {
    const rk = h(v.rkHex);
    assert.equal(hx(await roomKeyFingerprint(rk, v.roomId)), v.rkfHex);
    const byId = new Map(v.participants.map((p) => [p.participantId, p]));
    const fields = [v.roomId, v.keyVersion, h(v.rkfHex)];
    for (const id of v.sortedParticipantIds) fields.push(id, h(byId.get(id).signingSpkiHex), h(byId.get(id).exchangeSpkiHex));
    const input = frame('MTX1-SAFETY', ...fields);
    assert.equal(hx(input), v.inputHex);
    assert.equal(hx(new Uint8Array(await subtle.digest('SHA-256', input))), v.digestHex);
    assert.equal(v.groups.join(' '), v.code);

    const participants = v.participants.map((p) => ({
      participantId: p.participantId, signingKey: b64uEncode(h(p.signingSpkiHex)), exchangeKey: b64uEncode(h(p.exchangeSpkiHex)),
    }));
    const args = { roomId: v.roomId, keyVersion: v.keyVersion, rk };
    assert.equal(await safetyCode({ ...args, participants }), v.code);
    assert.equal(await safetyCode({ ...args, participants: [...participants].reverse() }), v.code);
    // The exchange keys count: swapping one changes the code.
    const swapped = participants.map((p, i) => (i === 0 ? { ...p, exchangeKey: participants[1].exchangeKey } : p));
    assert.notEqual(await safetyCode({ ...args, participants: swapped }), v.code);
    assert.notEqual(await safetyCode({ ...args, rk: h(inputs.rk2Hex), participants }), v.code);
    assert.notEqual(await safetyCode({ ...args, keyVersion: 2, participants }), v.code);
  },

  async invite(v) {
    const s = h(v.inviteSecretHex);
    assert.equal(b64uEncode(s), v.inviteSecretB64u);
    assert.equal(await inviteTokenFor(s, v.roomId), v.inviteTokenB64u);
    assert.equal(await inviteTokenFor(v.inviteSecretB64u, v.roomId), v.inviteTokenB64u);
    assert.equal(hx(b64uDecode(v.inviteTokenB64u)), v.inviteTokenHex);
    assert.equal(hx(new Uint8Array(await subtle.digest('SHA-256', h(v.inviteTokenHex)))), v.inviteTokenSha256Hex);
    assert.equal(hx(await hkdf(s, `MTX1 invite wrap ${v.roomId}`)), v.iwkHex);
    assert.equal(hx(frame('MTX1-INVITE', v.roomId, v.keyVersion)), v.aadHex);

    const inv = await createInvite({ roomId: v.roomId, keyVersion: v.keyVersion, rk: h(v.rkHex), secret: s, nonce: h(v.nonceHex) });
    assert.deepEqual(inv, {
      inviteSecret: v.inviteSecretB64u,
      inviteToken: v.inviteTokenB64u,
      wrappedRoomKey: v.wrappedRoomKeyB64u,
      fragment: new URL(v.link).hash,
    });
    assert.equal(hx(b64uDecode(inv.wrappedRoomKey)), v.wrappedRoomKeyHex);
    assert.equal(`https://mikrotext.example/${inv.fragment}`, v.link);
    assert.deepEqual(parseInviteFragment(new URL(v.link).hash), { roomId: v.roomId, inviteSecret: v.inviteSecretB64u });
    assert.equal(formatInviteFragment(v.roomId, v.inviteSecretB64u), new URL(v.link).hash);

    const open = (o) => openInvite({ roomId: v.roomId, keyVersion: v.keyVersion, secretB64u: v.inviteSecretB64u, wrappedRoomKeyB64u: v.wrappedRoomKeyB64u, ...o });
    assert.equal(hx(await open({})), v.rkHex);
    await assert.rejects(open({ keyVersion: v.keyVersion + 1 }), UndecryptableError);
    await assert.rejects(open({ secretB64u: b64uEncode(h(inputs.ck0Hex)) }), UndecryptableError);
    await assert.rejects(open({ roomId: inputs.participants.bob }), UndecryptableError);
    await assert.rejects(open({ secretB64u: v.inviteSecretB64u.slice(1) }), MalformedError);
  },

  async 'rotation-wrap'(v) {
    const creator = keyAt(v.creatorExchangeKey);
    const recipient = keyAt(v.recipientExchangeKey);
    const info = `MTX1 wrap ${v.roomId} ${v.keyVersion}`;
    assert.equal(hx(await hkdf(h(v.ecdhSharedSecretHex), info)), v.wrapKeyHex);
    assert.equal(hx(frame('MTX1-WRAP', v.roomId, v.keyVersion, v.participantId)), v.aadHex);
    for (const format of ['pkcs8', 'jwk']) {
      const creatorPriv = await importPrivate(creator, format, 'ECDH');
      const recipientPriv = await importPrivate(recipient, format, 'ECDH');
      for (const [priv, pub] of [[creatorPriv, recipient], [recipientPriv, creator]]) {
        const x = await subtle.deriveBits({ name: 'ECDH', public: await importExchangeSpki(pub.spkiB64u) }, priv, 256);
        assert.equal(hx(new Uint8Array(x)), v.ecdhSharedSecretHex);
      }
      const wrapped = await wrapForParticipant({
        roomId: v.roomId, keyVersion: v.keyVersion, rk: h(v.newRoomKeyHex), creatorExchangePrivateKey: creatorPriv,
        recipientExchangeSpki: recipient.spkiB64u, participantId: v.participantId, nonce: h(v.nonceHex),
      });
      assert.equal(wrapped, v.wrappedB64u);
      assert.equal(hx(b64uDecode(wrapped)), v.wrappedHex);
      const unwrap = (o) => unwrapFromCreator({
        roomId: v.roomId, keyVersion: v.keyVersion, wrapped: v.wrappedB64u, recipientExchangePrivateKey: recipientPriv,
        creatorExchangeSpki: creator.spkiB64u, participantId: v.participantId, ...o,
      });
      assert.equal(hx(await unwrap({})), v.newRoomKeyHex);
      await assert.rejects(unwrap({ participantId: inputs.participants.carol }), UndecryptableError);
      await assert.rejects(unwrap({ keyVersion: v.keyVersion + 1 }), UndecryptableError);
      await assert.rejects(unwrap({ recipientExchangePrivateKey: await importPrivate(keys.carolExchange, format, 'ECDH') }), UndecryptableError);
    }
  },
};

const REQUIRED_KINDS = ['base64url', 'base64url-invalid', 'hkdf', 'frame', 'chain', 'padding-lengths', 'message', 'checkpoint',
  'receiver-from-checkpoint', 'envelope-signature', 'safety-code', 'invite', 'rotation-wrap'];

test('vector file: every kind is present and has a check', () => {
  assert.equal(V.protocol, 'MTX1');
  const kinds = new Set(V.vectors.map((v) => v.kind));
  for (const k of REQUIRED_KINDS) assert.ok(kinds.has(k), `missing kind ${k}`);
  for (const k of kinds) assert.equal(typeof checks[k], 'function', `no check for kind ${k}`);
});

for (const v of V.vectors) {
  test(`vector ${v.kind}: ${v.name}`, async () => {
    await checks[v.kind](v);
  });
}

// ------------------------------------------------------------ round trips and receiver rules

const ROOM = b64uEncode(new Uint8Array(16).fill(7));
const ALICE = b64uEncode(new Uint8Array(16).fill(1));

async function sender() {
  const { publicKey, privateKey } = await generateSigningKeyPair();
  const spki = b64uEncode(await exportSpki(publicKey));
  const rk = generateRoomKey();
  const chain = SenderChain.start();
  const send = (text, extra = {}) => encryptEnvelope({ roomId: ROOM, senderId: ALICE, keyVersion: 1, rk, chain, signingKey: privateKey, message: { text }, ...extra })
    .then((env) => ({ ...env, senderId: ALICE }));
  return { spki, rk, chain, send, opts: { signingSpki: spki, rk } };
}

// Advance the chain without sending (the receiver never sees those indices).
async function skip(chain, n) {
  for (let i = 0; i < n; i++) await chain.next();
}

test('base64url round trip for lengths 0..64, and strict decoding rules', () => {
  for (let n = 0; n <= 64; n++) {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
    const text = b64uEncode(bytes);
    assert.match(text, /^[A-Za-z0-9_-]*$/);
    assert.deepEqual(b64uDecode(text, n), bytes);
  }
  for (const bad of ['A', 'AAAAA', 'AA==', 'AA\n', ' AA', 'AA.A', 'AAé', 'AB', 'AAC', null, 12]) {
    assert.throws(() => b64uDecode(bad), MalformedError, String(bad));
  }
});

test('frame rejects integers outside 0..2^31-1 and unknown field kinds', () => {
  assert.equal(hx(frame('T', 0x7fffffff)), hx(utf8Encode('T')) + '000000047fffffff');
  for (const bad of [-1, 2 ** 31, 1.5, NaN]) assert.throws(() => frame('T', bad));
  assert.throws(() => frame('T', {}), TypeError);
  assert.throws(() => frame('', 'x'), TypeError);
});

test('generated keys: private keys non-extractable, public keys export as 91-byte SPKI', async () => {
  const sig = await generateSigningKeyPair();
  const ex = await generateExchangeKeyPair();
  assert.equal(sig.privateKey.extractable, false);
  assert.equal(ex.privateKey.extractable, false);
  await assert.rejects(subtle.exportKey('pkcs8', sig.privateKey));
  const sigSpki = await exportSpki(sig.publicKey);
  const exSpki = await exportSpki(ex.publicKey);
  assert.equal(sigSpki.length, 91);
  assert.equal(exSpki.length, 91);
  assert.deepEqual(await exportSpki(await importSigningSpki(b64uEncode(sigSpki))), sigSpki);
  assert.deepEqual(await exportSpki(await importExchangeSpki(exSpki)), exSpki);
  const offCurve = sigSpki.slice();
  offCurve[90] ^= 1;
  await assert.rejects(importSigningSpki(offCurve), MalformedError);
  await assert.rejects(importSigningSpki(sigSpki.subarray(0, 90)), MalformedError);
  assert.equal(generateRoomKey().length, 32);
});

test('round trip: 20 messages, checkpoints exactly at indices 0 and 16', async () => {
  const a = await sender();
  const rx = new ReceiverState(ROOM);
  for (let i = 0; i < 20; i++) {
    const env = await a.send(`message ${i} ✓`);
    assert.equal(env.chainIndex, i);
    assert.equal(env.checkpoint === null, i % 16 !== 0, `index ${i}`);
    assert.equal(b64uDecode(env.ciphertext).length, 256 + 16);
    assert.deepEqual(await rx.receive(env, a.opts), { text: `message ${i} ✓` });
  }
});

test('receiver rejects a replayed index, then still accepts the next one', async () => {
  const a = await sender();
  const rx = new ReceiverState(ROOM);
  const e0 = await a.send('zero');
  const e1 = await a.send('one');
  await rx.receive(e0, a.opts);
  await assert.rejects(rx.receive(e0, a.opts), ReplayError);
  assert.deepEqual(await rx.receive(e1, a.opts), { text: 'one' });
  await assert.rejects(rx.receive(e1, a.opts), ReplayError);
  await assert.rejects(Promise.all([rx.receive(e1, a.opts), rx.receive(e1, a.opts)]), ReplayError);
});

test('receiver: out-of-order delivery uses skipped keys, each index only once', async () => {
  const a = await sender();
  const rx = new ReceiverState(ROOM);
  const envs = [];
  for (let i = 0; i < 4; i++) envs.push(await a.send(`m${i}`));
  await rx.receive(envs[0], a.opts);
  assert.deepEqual(await rx.receive(envs[3], a.opts), { text: 'm3' });
  assert.deepEqual(await rx.receive(envs[1], a.opts), { text: 'm1' });
  assert.deepEqual(await rx.receive(envs[2], a.opts), { text: 'm2' });
  await assert.rejects(rx.receive(envs[1], a.opts), ReplayError);
});

test('receiver: bad signature is checked first; tampering is rejected without changing state', async () => {
  const a = await sender();
  const other = await sender();
  const rx = new ReceiverState(ROOM);
  const e0 = await a.send('zero');
  const ct = b64uDecode(e0.ciphertext);
  ct[0] ^= 1;
  await assert.rejects(rx.receive({ ...e0, ciphertext: b64uEncode(ct) }, a.opts), BadSignatureError);
  await assert.rejects(rx.receive({ ...e0, chainIndex: 1 }, a.opts), BadSignatureError);
  await assert.rejects(rx.receive(e0, other.opts), BadSignatureError);
  await assert.rejects(rx.receive({ ...e0, signature: e0.signature.slice(2) }, a.opts), BadSignatureError);
  await assert.rejects(rx.receive({ ...e0, nonce: e0.nonce + '=' }, a.opts), MalformedError);
  assert.deepEqual(await rx.receive(e0, a.opts), { text: 'zero' });
  // A validly signed envelope whose checkpoint is under another room key: undecryptable, nothing recorded.
  const rx2 = new ReceiverState(ROOM);
  await assert.rejects(rx2.receive(e0, { ...a.opts, rk: generateRoomKey() }), UndecryptableError);
  assert.deepEqual(await rx2.receive(e0, a.opts), { text: 'zero' });
});

test('ratchet limit: 1000 steps ahead is accepted, 1001 is too far', async () => {
  const a = await sender();
  const rx = new ReceiverState(ROOM);
  await rx.receive(await a.send('zero'), a.opts); // state: next index 1
  await skip(a.chain, 1000);
  const e1001 = await a.send('1000 steps ahead'); // index 1001, no checkpoint
  assert.equal(e1001.chainIndex, 1001);
  assert.equal(e1001.checkpoint, null);
  assert.deepEqual(await rx.receive(e1001, a.opts), { text: '1000 steps ahead' });

  const b = await sender();
  const rxb = new ReceiverState(ROOM);
  await rxb.receive(await b.send('zero'), b.opts);
  await skip(b.chain, 1001);
  const e1002 = await b.send('1001 steps ahead');
  assert.equal(e1002.chainIndex, 1002);
  await assert.rejects(rxb.receive(e1002, b.opts), TooFarError);
  // A checkpoint lets the receiver jump any distance.
  await skip(b.chain, 1024 - 1003);
  const e1024 = await b.send('checkpointed');
  assert.notEqual(e1024.checkpoint, null);
  assert.deepEqual(await rxb.receive(e1024, b.opts), { text: 'checkpointed' });
});

test('skipped message keys are capped at 1000 per chain, oldest dropped first', async () => {
  const a = await sender();
  const rx = new ReceiverState(ROOM);
  const envs = new Map();
  const keep = new Set([0, 1, 600, 1001, 1500]);
  for (let i = 0; i <= 1500; i++) {
    if (keep.has(i)) envs.set(i, await a.send(`m${i}`));
    else await a.chain.next();
  }
  await rx.receive(envs.get(0), a.opts);
  await rx.receive(envs.get(1001), a.opts); // skipped 1..1000
  await rx.receive(envs.get(1500), a.opts); // skipped +1002..1499 → oldest 1..498 dropped
  await assert.rejects(rx.receive(envs.get(1), a.opts), UndecryptableError);
  assert.deepEqual(await rx.receive(envs.get(600), a.opts), { text: 'm600' });
});

test('late joiner: no state and no checkpoint is undecryptable until the next checkpoint', async () => {
  const a = await sender();
  const rx = new ReceiverState(ROOM);
  const envs = [];
  for (let i = 0; i < 18; i++) envs.push(await a.send(`m${i}`));
  await assert.rejects(rx.receive(envs[5], a.opts), UndecryptableError);
  assert.deepEqual(await rx.receive(envs[16], a.opts), { text: 'm16' });
  assert.deepEqual(await rx.receive(envs[17], a.opts), { text: 'm17' });
  assert.deepEqual(await rx.receive(envs[0], a.opts), { text: 'm0' }); // carries its own checkpoint
  await assert.rejects(rx.receive(envs[5], a.opts), UndecryptableError);
});

test('a message sent with a checkpoint of its own is read before the one ahead of it in the chain', async () => {
  const a = await sender();
  const first = await a.send('m0');
  const second = await a.send('m1', { withCheckpoint: true });
  assert.notEqual(second.checkpoint, null);
  const rx = new ReceiverState(ROOM); // stored in the other order: the second first
  assert.deepEqual(await rx.receive(second, a.opts), { text: 'm1' });
  assert.deepEqual(await rx.receive(first, a.opts), { text: 'm0' });
  assert.deepEqual(await rx.receive(await a.send('m2'), a.opts), { text: 'm2' }, 'the chain goes on from the second');

  const b = await sender(); // without it, the second cannot be read by a receiver that has not seen the first
  const [b0, b1] = [await b.send('m0'), await b.send('m1')];
  assert.equal(b1.checkpoint, null);
  const late = new ReceiverState(ROOM);
  await assert.rejects(late.receive(b1, b.opts), UndecryptableError);
  assert.deepEqual(await late.receive(b0, b.opts), { text: 'm0' });
});

test('padding: missing 0x80 is rejected by unpad and by openMessage', async () => {
  assert.throws(() => unpad(new Uint8Array(256)), UndecryptableError);
  assert.throws(() => unpad(new Uint8Array([0x7b, 0x7d, 0, 0])), UndecryptableError);
  assert.throws(() => unpad(new Uint8Array(0)), UndecryptableError);
  assert.deepEqual(unpad(new Uint8Array([0x41, 0x80, 0, 0])), new Uint8Array([0x41]));
  assert.deepEqual(unpad(new Uint8Array([0x80, 0x80])), new Uint8Array([0x80]));

  const mk = generateRoomKey();
  const nonce = new Uint8Array(12);
  const header = { roomId: ROOM, senderId: ALICE, keyVersion: 1, chainId: new Uint8Array(16), chainIndex: 0 };
  const aad = frame('MTX1-MESSAGE', ROOM, ALICE, 1, header.chainId, 0);
  const key = await subtle.importKey('raw', mk, 'AES-GCM', false, ['encrypt']);
  const unpadded = new Uint8Array(256);
  unpadded.set(utf8Encode('{"text":"x"}'));
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, unpadded));
  await assert.rejects(openMessage(mk, header, nonce, ct), UndecryptableError);
  const { ciphertext } = await sealMessage(mk, header, { text: 'x' }, nonce);
  assert.deepEqual(await openMessage(mk, header, nonce, ciphertext), { text: 'x' });
});

test('invite round trip with a fresh secret; fragment parsing is strict', async () => {
  const rk = generateRoomKey();
  const inv = await createInvite({ roomId: ROOM, keyVersion: 3, rk });
  assert.equal(b64uDecode(inv.inviteSecret, 32).length, 32);
  assert.equal(inv.inviteToken, await inviteTokenFor(inv.inviteSecret, ROOM));
  const parsed = parseInviteFragment(inv.fragment);
  assert.deepEqual(parsed, { roomId: ROOM, inviteSecret: inv.inviteSecret });
  assert.deepEqual(parseInviteFragment(inv.fragment.slice(1)), parsed);
  assert.deepEqual(await openInvite({ roomId: ROOM, keyVersion: 3, secretB64u: parsed.inviteSecret, wrappedRoomKeyB64u: inv.wrappedRoomKey }), rk);
  for (const bad of ['', '#/join/', `#/join/${ROOM}`, `#/join/${ROOM}/${inv.inviteSecret}/`, `#/join/${ROOM}x/${inv.inviteSecret}`,
    `#/join/${ROOM}/${inv.inviteSecret.slice(0, 42)}B`, `#/room/${ROOM}/${inv.inviteSecret}`, null]) {
    assert.equal(parseInviteFragment(bad), null, String(bad));
  }
});

test('rotation wrap round trip with generated keys, the creator included', async () => {
  const creator = await generateExchangeKeyPair();
  const bob = await generateExchangeKeyPair();
  const creatorSpki = b64uEncode(await exportSpki(creator.publicKey));
  const rk = generateRoomKey();
  for (const [pid, pair] of [[ALICE, creator], [b64uEncode(new Uint8Array(16).fill(2)), bob]]) {
    const wrapped = await wrapForParticipant({
      roomId: ROOM, keyVersion: 2, rk, creatorExchangePrivateKey: creator.privateKey,
      recipientExchangeSpki: await exportSpki(pair.publicKey), participantId: pid,
    });
    assert.equal(b64uDecode(wrapped).length, 60);
    const back = await unwrapFromCreator({
      roomId: ROOM, keyVersion: 2, wrapped, recipientExchangePrivateKey: pair.privateKey, creatorExchangeSpki: creatorSpki, participantId: pid,
    });
    assert.deepEqual(back, rk);
  }
});
