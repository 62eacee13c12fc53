// Entry point: routing and DOM. Holds no keys, tokens or room keys: it drives RoomSession objects through their
// high-level methods and renders their events. Every piece of data reaches the page through textContent.

import { randomName } from './names.js';
import { RelayError } from './relay.js';
import { SessionError, createRoom, restoreRooms, takeInviteFromLocation } from './room-session.js';

// Read and remove a join link before anything else runs.
let pendingInvite = takeInviteFromLocation();

const $ = (id) => document.getElementById(id);
const MAX_PSEUDONYM = 40;
const ACTIVE_KEY = 'mikrotext.ui.active';
const UNVERIFIED_TEXT = '(a message that could not be verified)';

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  polling: 'Polling (WebSocket unavailable)',
  ended: 'Ended',
};

const ENDED_TEXT = {
  ended: 'This room has ended.',
  removed: 'You were removed from this room.',
  unauthorized: 'Your session in this room is no longer valid.',
  left: 'You left this room.',
};

/** roomId → {session, entry (room list button)} */
const rooms = new Map();
let activeId = null;

// ---------------------------------------------------------------- small DOM helpers

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showView(name) {
  for (const view of ['create', 'join', 'room']) $(`${view}-view`).hidden = view !== name;
}

function setText(node, text) {
  node.textContent = text;
  node.hidden = !text;
}

function busy(button, on) {
  button.disabled = on;
  button.setAttribute('aria-busy', String(on));
}

/** 1 to MAX_PSEUDONYM code points after trimming, or null. */
function cleanPseudonym(raw) {
  const name = raw.normalize('NFC').trim();
  const length = [...name].length;
  return length >= 1 && length <= MAX_PSEUDONYM ? name : null;
}

function rememberActive(roomId) {
  try {
    if (roomId) sessionStorage.setItem(ACTIVE_KEY, roomId);
    else sessionStorage.removeItem(ACTIVE_KEY);
  } catch {
    // storage disabled: nothing to remember
  }
}

function storedActive() {
  try {
    return sessionStorage.getItem(ACTIVE_KEY);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- error texts

function joinErrorText(error) {
  if (error instanceof SessionError) return error.message;
  if (!(error instanceof RelayError)) return 'Something went wrong. Try again.';
  if (error.network) return 'Could not reach the relay. Check your connection and try again.';
  if (error.problem === 'invite-used') return 'This invite link has already been used. Ask for a new one.';
  if (error.problem === 'invite-expired') return 'This invite link has expired. Ask for a new one.';
  if (error.status === 403) return 'This invite link is not valid.';
  if (error.status === 404) return 'This room is gone: it expired or was ended.';
  if (error.status === 429) return 'Too many attempts, try again in a minute.';
  if (error.status === 409 && error.problem === 'room-full') return 'This room is full.';
  return relayErrorText(error);
}

function removeErrorText(error, person) {
  if (error?.code === 'rotation-pending') {
    return `\u2068${person.pseudonym}\u2069 was removed, but the room’s new key is not in place yet. MikroText keeps `
      + 'trying in the background.';
  }
  if (error instanceof SessionError) return error.message;
  if (error instanceof RelayError && error.network) {
    return `Could not reach the relay. If \u2068${person.pseudonym}\u2069 is still listed, try again.`;
  }
  return relayErrorText(error);
}

function relayErrorText(error) {
  if (!(error instanceof RelayError)) return 'Something went wrong. Try again.';
  if (error.network) return 'Could not reach the relay. Check your connection and try again.';
  if (error.status === 429) return 'Too many attempts, try again in a minute.';
  if (error.status === 404) return 'This room is gone: it expired or was ended.';
  if (error.status === 400 && /^Pseudonym/.test(error.detail ?? '')) return error.detail;
  return 'The relay refused this. Try again.';
}

// ---------------------------------------------------------------- time left

function timeLeftText(expiresAt) {
  if (!expiresAt) return '';
  const seconds = Math.floor((expiresAt - Date.now()) / 1000);
  if (seconds <= 0) return 'Ending now';
  if (seconds < 60) return 'Ends in less than a minute';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `Ends in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `Ends in ${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  return `Ends in ${days} days${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

function renderExpires() {
  const session = activeSession();
  $('expires').textContent = session && !session.endReason ? timeLeftText(session.expiresAt) : '';
}

// ---------------------------------------------------------------- room list

function activeSession() {
  return rooms.get(activeId)?.session ?? null;
}

function addRoomEntry(session) {
  const button = el('button', 'room-entry');
  button.type = 'button';
  button.dataset.roomId = session.roomId;
  const name = el('span', 'room-name', session.title);
  const unread = el('span', 'unread');
  unread.hidden = true;
  button.append(name, unread);
  button.addEventListener('click', () => switchTo(session.roomId));
  const item = el('li');
  item.append(button);
  $('room-list').append(item);
  return button;
}

function renderRoomEntry(session) {
  const entry = rooms.get(session.roomId)?.entry;
  if (!entry) return;
  entry.querySelector('.room-name').textContent = session.title;
  const count = session.roomId === activeId ? 0 : session.unread;
  const unread = entry.querySelector('.unread');
  unread.textContent = count ? String(count) : '';
  unread.hidden = !count;
  if (count) unread.setAttribute('aria-label', `${count} unread`);
  else unread.removeAttribute('aria-label');
  entry.classList.toggle('ended', session.state === 'ended');
  entry.classList.toggle('active', session.roomId === activeId);
  if (session.roomId === activeId) entry.setAttribute('aria-current', 'true');
  else entry.removeAttribute('aria-current');
}

function renderRoomList() {
  for (const { session } of rooms.values()) renderRoomEntry(session);
  $('no-rooms').hidden = rooms.size > 0;
  renderDocumentTitle();
}

function renderDocumentTitle() {
  let total = 0;
  for (const { session } of rooms.values()) if (session.roomId !== activeId || document.hidden) total += session.unread;
  document.title = total ? `(${total}) MikroText` : 'MikroText';
}

// ---------------------------------------------------------------- messages

function messageItem(message) {
  const item = el('li', 'message');
  item.dataset.seq = String(message.seq);
  if (message.mine) item.classList.add('mine');
  if (!message.verified) item.classList.add('unverified');
  const meta = el('div', 'meta');
  meta.append(el('span', 'sender', message.senderName));
  if (message.mine) meta.append(el('span', 'you-tag', '(you)'));
  if (message.createdAt) {
    const time = el('time', 'time', new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    time.dateTime = new Date(message.createdAt).toISOString();
    meta.append(time);
  }
  item.append(meta, el('div', 'text', message.verified ? message.text : UNVERIFIED_TEXT));
  return item;
}

function outgoingItem(out) {
  const item = el('li', 'pending');
  item.dataset.outgoing = out.id;
  fillOutgoing(item, out);
  return item;
}

function fillOutgoing(item, out) {
  item.replaceChildren();
  item.classList.toggle('failed', out.status === 'failed');
  const state = out.status === 'failed' ? out.error
    : out.busy ? 'Sending… the relay is busy, so it goes again in a moment.' : 'Sending…';
  item.append(el('div', 'meta', state), el('div', 'text', out.text));
  if (out.status === 'failed') {
    const retry = el('button', 'link-button', 'Try again');
    retry.type = 'button';
    retry.addEventListener('click', () => retrySend(out));
    const dismiss = el('button', 'link-button', 'Dismiss');
    dismiss.type = 'button';
    dismiss.addEventListener('click', () => activeSession()?.dismiss(out.id));
    item.append(retry, dismiss);
  }
}

function retrySend(out) {
  const session = activeSession();
  if (!session) return;
  session.dismiss(out.id);
  sendText(session, out.text);
}

// Whether the log follows new messages: true until the reader scrolls up.
let followLog = true;

function scrollLogToEnd() {
  const log = $('log');
  log.scrollTop = log.scrollHeight;
  followLog = true;
}

function appendMessage(message) {
  const log = $('log');
  log.insertBefore(messageItem(message), log.querySelector('li.pending'));
  if (followLog || message.mine) scrollLogToEnd();
}

function renderOutgoing(out) {
  const log = $('log');
  const existing = [...log.querySelectorAll('li.pending')].find((li) => li.dataset.outgoing === out.id);
  if (out.status === 'done') {
    existing?.remove();
  } else if (existing) {
    fillOutgoing(existing, out);
  } else {
    log.append(outgoingItem(out));
    scrollLogToEnd();
  }
}

function renderLog(session) {
  const log = $('log');
  log.setAttribute('aria-busy', 'true');
  log.replaceChildren(...session.messages.map(messageItem), ...session.outgoing.map(outgoingItem));
  scrollLogToEnd();
  log.setAttribute('aria-busy', 'false');
}

// ---------------------------------------------------------------- room view

function renderParticipants(session) {
  const canRemove = session.isCreator && session.state !== 'ended';
  const items = session.participants.map((p) => {
    const item = el('li');
    item.append(el('span', 'name', p.pseudonym));
    item.dataset.participantId = p.participantId;
    if (p.you) item.classList.add('you');
    if (p.role === 'creator') item.classList.add('creator');
    if (canRemove && !p.you) {
      const remove = el('button', 'link-button remove', 'Remove');
      remove.type = 'button';
      remove.setAttribute('aria-label', `Remove \u2068${p.pseudonym}\u2069`);
      remove.addEventListener('click', () => askRemove(session, p));
      item.append(remove);
    }
    return item;
  });
  $('participants').replaceChildren(...items);
  if (removing && !session.participants.some((p) => p.participantId === removing.participantId)) closeRemove();
}

// The person the creator is asked about removing: {roomId, participantId, pseudonym}, or null.
let removing = null;

function askRemove(session, person) {
  removing = { roomId: session.roomId, participantId: person.participantId, pseudonym: person.pseudonym };
  $('remove-question').textContent = `Remove \u2068${person.pseudonym}\u2069 from this room? They are disconnected at once `
    + 'and cannot read anything said from now on: everyone else gets a new room key. Invite links not used yet stop '
    + 'working.';
  $('remove-box').hidden = false;
  $('remove-confirm').focus();
}

function closeRemove() {
  removing = null;
  $('remove-box').hidden = true;
}

async function onRemoveConfirm() {
  const session = activeSession();
  const person = removing;
  if (!session || !person || person.roomId !== session.roomId) {
    closeRemove();
    return;
  }
  busy($('remove-confirm'), true);
  const notice = (text) => { if (activeId === session.roomId) $('room-notice').textContent = text; };
  notice(`Removing \u2068${person.pseudonym}\u2069…`);
  try {
    await session.remove(person.participantId);
    if (activeId === session.roomId) {
      $('invite-link').value = '';
      $('invite-status').textContent = '';
    }
    notice(`\u2068${person.pseudonym}\u2069 was removed. The room has a new key; invite links made before now no `
      + 'longer work.');
  } catch (e) {
    notice(removeErrorText(e, person));
  } finally {
    busy($('remove-confirm'), false);
    closeRemove();
  }
}

function onRemoveCancel() {
  closeRemove();
  $('participants').focus();
}

function renderSafety(session) {
  const { code, changed, forged } = session.safety;
  $('safety-code').textContent = forged ? '—' : code || '…';
  $('safety-warning').hidden = !changed || forged;
  $('safety-forged').hidden = !forged;
}

function renderConnection(session) {
  const connection = $('connection');
  const state = session.state;
  connection.dataset.state = state;
  connection.textContent = state === 'ended' ? (ENDED_TEXT[session.endReason] ?? 'Ended') : CONNECTION_TEXT[state];
  const ended = state === 'ended';
  setText($('room-ended'), ended ? ENDED_TEXT[session.endReason] ?? ENDED_TEXT.ended : '');
  for (const id of ['composer', 'send', 'copy-invite']) $(id).disabled = ended;
  $('burn').hidden = ended || !session.isCreator;
  if (ended) $('burn-box').hidden = true;
  $('leave').textContent = ended ? 'Close room' : 'Leave room';
  renderExpires();
}

function renderRoom(session) {
  $('room-title').textContent = session.title;
  $('invite-link').value = '';
  $('invite-status').textContent = '';
  $('room-notice').textContent = '';
  $('burn-box').hidden = true;
  closeRemove();
  renderParticipants(session);
  renderSafety(session);
  renderConnection(session);
  renderLog(session);
}

function switchTo(roomId) {
  if (!rooms.has(roomId)) return;
  activeId = roomId;
  rememberActive(roomId);
  const { session } = rooms.get(roomId);
  renderRoom(session);
  showView('room');
  if (!document.hidden) session.markRead();
  renderRoomList();
}

function showCreate() {
  activeId = null;
  rememberActive(null);
  setText($('create-error'), '');
  showView('create');
  renderRoomList();
  $('create-pseudonym').focus();
}

function forget(roomId) {
  const entry = rooms.get(roomId);
  if (!entry) return;
  entry.session.close();
  entry.entry.closest('li').remove();
  rooms.delete(roomId);
  if (activeId !== roomId) {
    renderRoomList();
    return;
  }
  const next = [...rooms.keys()].at(-1);
  if (next) switchTo(next);
  else showCreate();
}

// ---------------------------------------------------------------- sessions

function onSession(session, type, handler) {
  session.addEventListener(type, (event) => handler(event.detail));
}

function adopt(session) {
  rooms.set(session.roomId, { session, entry: addRoomEntry(session) });
  const isActive = () => session.roomId === activeId;
  onSession(session, 'message', (message) => {
    if (!isActive()) return;
    appendMessage(message);
    if (!document.hidden) session.markRead();
  });
  onSession(session, 'outgoing', (out) => { if (isActive()) renderOutgoing(out); });
  onSession(session, 'participants', () => {
    renderRoomEntry(session);
    if (!isActive()) return;
    renderParticipants(session);
    $('room-title').textContent = session.title;
  });
  onSession(session, 'safety', () => { if (isActive()) renderSafety(session); });
  onSession(session, 'state', () => {
    renderRoomEntry(session);
    if (!isActive()) return;
    renderConnection(session);
    if (session.state === 'ended') {
      closeRemove();
      renderParticipants(session);
    }
  });
  onSession(session, 'unread', () => { renderRoomEntry(session); renderDocumentTitle(); });
  onSession(session, 'expires', () => { if (isActive()) renderExpires(); });
  renderRoomList();
}

function sendText(session, text) {
  try {
    session.sendText(text);
    return true;
  } catch (e) {
    $('room-notice').textContent = e.message;
    return false;
  }
}

// ---------------------------------------------------------------- handlers

async function onCreate(event) {
  event.preventDefault();
  const pseudonym = cleanPseudonym($('create-pseudonym').value);
  if (!pseudonym) {
    setText($('create-error'), `Choose a name of 1 to ${MAX_PSEUDONYM} characters.`);
    $('create-pseudonym').focus();
    return;
  }
  setText($('create-error'), '');
  busy($('create-submit'), true);
  try {
    const session = await createRoom({ pseudonym, ttlSeconds: Number($('create-ttl').value) });
    adopt(session);
    switchTo(session.roomId);
    $('create-pseudonym').value = randomName();
    $('composer').focus();
  } catch (e) {
    setText($('create-error'), relayErrorText(e));
  } finally {
    busy($('create-submit'), false);
  }
}

async function onJoin(event) {
  event.preventDefault();
  const invite = pendingInvite;
  if (!invite) return;
  const pseudonym = cleanPseudonym($('join-pseudonym').value);
  if (!pseudonym) {
    setText($('join-error'), `Choose a name of 1 to ${MAX_PSEUDONYM} characters.`);
    return;
  }
  setText($('join-error'), '');
  busy($('join-submit'), true);
  try {
    const session = await invite.join(pseudonym);
    pendingInvite = null;
    adopt(session);
    switchTo(session.roomId);
    $('composer').focus();
  } catch (e) {
    setText($('join-error'), joinErrorText(e));
  } finally {
    busy($('join-submit'), false);
  }
}

function showJoin(invite) {
  const known = invite.valid ? rooms.get(invite.roomId) : null;
  if (known?.session.endReason) {
    forget(invite.roomId); // removed from it, or it ended: a new link may let them in again
  } else if (known) {
    // Joining again would make this tab a second participant of the same room (every message shown twice), and
    // spend a link meant for someone else.
    pendingInvite = null;
    switchTo(invite.roomId);
    $('room-notice').textContent = 'You are already in this room: that invite link was not used, and still works once.';
    return;
  }
  pendingInvite = invite;
  activeId = null;
  $('join-pseudonym').value = randomName();
  $('join-submit').disabled = !invite.valid;
  setText($('join-error'), invite.valid ? '' : 'This invite link is not valid.');
  showView('join');
  renderRoomList();
  $('join-pseudonym').focus();
}

function onComposerKey(event) {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
  event.preventDefault();
  $('composer-form').requestSubmit();
}

function onSend(event) {
  event.preventDefault();
  const session = activeSession();
  const composer = $('composer');
  const text = composer.value;
  if (!session || !text.trim()) return;
  if (sendText(session, text)) composer.value = '';
  composer.focus();
}

async function onCopyInvite() {
  const session = activeSession();
  if (!session) return;
  const button = $('copy-invite');
  const status = $('invite-status');
  busy(button, true);
  status.textContent = 'Making a new invite…';
  try {
    const link = await session.createInviteLink();
    const field = $('invite-link');
    field.value = link;
    field.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch {
      // clipboard refused: the link is in the field
    }
    status.textContent = copied
      ? 'New link copied. It works once, for one person.'
      : 'New link ready: copy it from the box. It works once, for one person.';
  } catch (e) {
    status.textContent = relayErrorText(e);
  } finally {
    busy(button, false);
  }
}

async function onLeave() {
  const session = activeSession();
  if (!session) return;
  busy($('leave'), true);
  try {
    await session.leave();
    forget(session.roomId);
  } catch (e) {
    const creatorRefused = e?.code === 'creator-cannot-leave' || e?.problem === 'creator-cannot-leave';
    $('room-notice').textContent = creatorRefused
      ? 'You created this room, so you cannot leave it: end it for everyone, or let it expire.'
      : relayErrorText(e);
  } finally {
    busy($('leave'), false);
  }
}

function onBurn() {
  $('burn-box').hidden = false;
  $('burn-confirm').focus();
}

async function onBurnConfirm() {
  const session = activeSession();
  if (!session) return;
  busy($('burn-confirm'), true);
  try {
    await session.burn(); // the room stays in view, marked as ended, until closed
  } catch (e) {
    $('room-notice').textContent = relayErrorText(e);
  } finally {
    busy($('burn-confirm'), false);
  }
}

function onBurnCancel() {
  $('burn-box').hidden = true;
  $('burn').focus();
}

function onSafetyAck() {
  activeSession()?.acknowledgeSafety();
  $('safety-code').focus();
}

function onHashChange() {
  const invite = takeInviteFromLocation();
  if (invite) showJoin(invite);
}

function onVisibility() {
  if (!document.hidden) activeSession()?.markRead();
  renderDocumentTitle();
}

function onJoinCancel() {
  pendingInvite = null;
  const last = storedActive();
  if (last && rooms.has(last)) switchTo(last);
  else if (rooms.size) switchTo([...rooms.keys()].at(-1));
  else showCreate();
}

// ---------------------------------------------------------------- start

function wire() {
  $('create-form').addEventListener('submit', onCreate);
  $('join-form').addEventListener('submit', onJoin);
  $('join-cancel').addEventListener('click', onJoinCancel);
  $('composer-form').addEventListener('submit', onSend);
  $('composer').addEventListener('keydown', onComposerKey);
  $('copy-invite').addEventListener('click', onCopyInvite);
  $('invite-link').addEventListener('focus', (e) => e.target.select());
  $('leave').addEventListener('click', onLeave);
  $('burn').addEventListener('click', onBurn);
  $('burn-confirm').addEventListener('click', onBurnConfirm);
  $('burn-cancel').addEventListener('click', onBurnCancel);
  $('remove-confirm').addEventListener('click', onRemoveConfirm);
  $('remove-cancel').addEventListener('click', onRemoveCancel);
  $('safety-ack').addEventListener('click', onSafetyAck);
  $('new-room').addEventListener('click', showCreate);
  window.addEventListener('hashchange', onHashChange);
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('pagehide', () => { for (const { session } of rooms.values()) session.close(); });
  window.addEventListener('pageshow', (event) => { if (event.persisted) location.reload(); });
  setInterval(renderExpires, 1000);
  const log = $('log');
  log.addEventListener('scroll', () => { followLog = log.scrollHeight - log.scrollTop - log.clientHeight < 40; }, { passive: true });
  new ResizeObserver(() => { if (followLog) log.scrollTop = log.scrollHeight; }).observe(log);
}

async function init() {
  wire();
  $('create-pseudonym').value = randomName();
  if (!globalThis.crypto?.subtle) {
    // WebCrypto exists only in secure contexts (HTTPS, or 127.0.0.1 / localhost).
    const text = 'MikroText needs a secure connection (HTTPS) to encrypt in this browser.';
    setText($('create-error'), text);
    setText($('join-error'), text);
    $('create-submit').disabled = true;
    $('join-submit').disabled = true;
    showView(pendingInvite ? 'join' : 'create');
    document.documentElement.dataset.ready = 'true';
    return;
  }
  let restored = [];
  try {
    restored = await restoreRooms();
  } catch {
    restored = [];
  }
  restored.forEach(adopt);
  if (pendingInvite) {
    showJoin(pendingInvite);
  } else {
    const last = storedActive();
    if (last && rooms.has(last)) switchTo(last);
    else if (rooms.size) switchTo([...rooms.keys()].at(-1));
    else showCreate();
  }
  document.documentElement.dataset.ready = 'true';
}

init();
