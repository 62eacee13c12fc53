// Release integrity for the static client: copies the web app to the build's output folder, puts Subresource
// Integrity hashes on the page's stylesheet and scripts (and a modulepreload with integrity for every ES module, so
// that the whole module graph is checked, not only the entry point), and writes checksums.sha256 (sha256sum format)
// for every file served. Usage: node integrity.mjs <source webapp dir> <output dir>
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const [source, output] = process.argv.slice(2);
if (!source || !output) {
  console.error('usage: node integrity.mjs <source webapp dir> <output dir>');
  process.exit(2);
}

const digest = (algorithm, bytes, encoding) => createHash(algorithm).update(bytes).digest(encoding);
const sri = (bytes) => `sha384-${digest('sha384', bytes, 'base64')}`;

/** Every file below dir, as paths relative to it with '/' separators, sorted. */
function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

rmSync(output, { recursive: true, force: true });
mkdirSync(output, { recursive: true });
cpSync(source, output, { recursive: true });

const page = join(output, 'index.html');
let html = readFileSync(page, 'utf8');
const served = (href) => readFileSync(join(output, href));
html = html.replace(/<link rel="stylesheet" href="([^"]+)">/g,
  (_, href) => `<link rel="stylesheet" href="${href}" integrity="${sri(served(href))}">`);
html = html.replace(/<script type="module" src="([^"]+)"><\/script>/g,
  (_, src) => `<script type="module" src="${src}" integrity="${sri(served(src))}"></script>`);
const modules = files(output).filter((f) => f.startsWith('js/') && f.endsWith('.js'));
const preloads = modules.map((m) => `  <link rel="modulepreload" href="${m}" integrity="${sri(served(m))}">`).join('\n');
if (!html.includes('<!-- modulepreload -->')) {
  console.error('index.html lacks the <!-- modulepreload --> marker');
  process.exit(1);
}
html = html.replace(/^\s*<!-- modulepreload -->$/m, preloads);
writeFileSync(page, html);

const checksums = files(output).filter((f) => !f.startsWith('WEB-INF/') && !f.startsWith('META-INF/')
  && f !== 'checksums.sha256');
writeFileSync(join(output, 'checksums.sha256'),
  checksums.map((f) => `${digest('sha256', served(f), 'hex')}  ${f}\n`).join(''));
console.log(`integrity: ${modules.length} modules preloaded with SRI, ${checksums.length} files in checksums.sha256`);
