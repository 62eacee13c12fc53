// Random friendly pseudonyms ("Calm Otter"). No DOM, no keys.

const ADJECTIVES = [
  'Amber', 'Brave', 'Bright', 'Calm', 'Clever', 'Cosy', 'Curious', 'Daring', 'Eager', 'Gentle',
  'Golden', 'Happy', 'Humble', 'Jolly', 'Kind', 'Lively', 'Lucky', 'Merry', 'Mellow', 'Nimble',
  'Patient', 'Polite', 'Proud', 'Quick', 'Quiet', 'Rosy', 'Silver', 'Sunny', 'Swift', 'Tidy',
  'Velvet', 'Warm', 'Wise', 'Witty', 'Zesty', 'Breezy', 'Cheerful', 'Dreamy', 'Frosty', 'Misty',
];

const ANIMALS = [
  'Badger', 'Beaver', 'Bison', 'Crane', 'Dolphin', 'Falcon', 'Ferret', 'Finch', 'Fox', 'Gecko',
  'Heron', 'Hedgehog', 'Ibis', 'Koala', 'Lark', 'Lemur', 'Lynx', 'Marten', 'Meerkat', 'Moose',
  'Newt', 'Ocelot', 'Otter', 'Owl', 'Panda', 'Pelican', 'Puffin', 'Quokka', 'Raven', 'Robin',
  'Seal', 'Sparrow', 'Squirrel', 'Stork', 'Swan', 'Tapir', 'Tiger', 'Walrus', 'Wombat', 'Wren',
];

function pick(list) {
  // Rejection sampling keeps the choice uniform.
  const limit = 0x100000000 - (0x100000000 % list.length);
  const word = new Uint32Array(1);
  do globalThis.crypto.getRandomValues(word); while (word[0] >= limit);
  return list[word[0] % list.length];
}

/** A random friendly pseudonym such as "Calm Otter". */
export function randomName() {
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
}
