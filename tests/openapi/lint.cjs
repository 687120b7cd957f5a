// Lints the OpenAPI document as the server serves it: a real `encore serve` on a temporary data
// directory (its port read from its first line of stdout, like tests/browser/support.cjs), GET
// /openapi.json written to a file, and Redocly CLI run on it with redocly.yaml beside this file.
// Redocly comes from the npm packages tools/test installs into ENCORE_OPENAPI_LINT_MODULES
// (build/openapi-lint), run by npx with --no-install: nothing is downloaded here.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const BINARY = process.env.ENCORE_BINARY || path.resolve(__dirname, '../../build/encore');
const MODULES = process.env.ENCORE_OPENAPI_LINT_MODULES || path.resolve(__dirname, '../../build/openapi-lint');
const CONFIG = path.join(__dirname, 'redocly.yaml');
const START_MS = 30000;

function firstLine(child, tail) {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('encore serve printed nothing in 30 s; its stderr:\n' + tail())), START_MS);
    lines.once('line', (line) => { clearTimeout(timer); resolve(line); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error('encore serve exited (' + code + '); its stderr:\n' + tail())); });
  });
}

// The document the server serves, as text.
async function servedDocument(root) {
  const stderrPath = path.join(root, 'stderr.log');
  const stderr = fs.openSync(stderrPath, 'a');
  const child = spawn(BINARY, ['serve', '--data-dir', path.join(root, 'data'), '--listen', '127.0.0.1:0',
    '--admin-key', 'openapi-lint-admin-key', '--partitions', '1', '--http-threads', '1'], { stdio: ['ignore', 'pipe', stderr] });
  fs.closeSync(stderr);
  const tail = () => fs.readFileSync(stderrPath, 'utf8').slice(-4000);
  try {
    // "encore serving on http://127.0.0.1:PORT (data in ..., N partitions)"
    const line = await firstLine(child, tail);
    const match = /http:\/\/([0-9.]+):([0-9]+)/.exec(line);
    if (!match) throw new Error('cannot read the port from: ' + line);
    const response = await fetch('http://' + match[1] + ':' + match[2] + '/openapi.json');
    if (response.status !== 200) throw new Error('GET /openapi.json answered ' + response.status);
    return await response.text();
  } finally {
    const exited = child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

async function main() {
  if (!fs.existsSync(path.join(MODULES, 'node_modules', '.bin', 'redocly'))) {
    console.error('Redocly CLI is not installed in ' + MODULES + ': tools/test installs it from tests/openapi/package-lock.json');
    return 1;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'encore-openapi-'));
  try {
    const documentPath = path.join(root, 'openapi.json');
    fs.writeFileSync(documentPath, await servedDocument(root));
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' };
    const lint = spawnSync('npx', ['--no-install', '--prefix', MODULES, 'redocly', 'lint', '--config', CONFIG, documentPath],
      { stdio: 'inherit', env });
    if (lint.error) throw lint.error;
    return lint.status === 0 ? 0 : 1;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
