#!/usr/bin/env node
// Runs the API contract against a live Steward over HTTPS:
//   1. every request of Tines' real Postman collection
//      (../shared/clients/tines-postman/, or $TINES_COLLECTION), each on its
//      own as a one-request collection, with its variables pointing at live
//      objects and a test that the status is 2xx (the requests themselves
//      are sent unchanged);
//   2. Steward's own collection (httpapi/apidoc/steward.postman_collection.json),
//      whose requests test their documented statuses.
// It builds steward, makes a throwaway certificate with openssl, and serves
// a fresh SQLite database from a temporary directory. It prints one line per
// check and then "N passed, M failed"; any failure (a seed, a request, an
// assertion) makes it exit 1. Nothing is skipped.
//
// Usage, from the repository root:
//   npm ci --prefix .ci --no-audit --no-fund && node .ci/contract.js
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const newman = require('newman');

const repo = path.resolve(__dirname, '..');
const tinesFile = process.env.TINES_COLLECTION ||
  path.resolve(repo, '..', 'shared', 'clients', 'tines-postman', 'Tines.postman_collection.json');
const stewardFile = path.join(repo, 'httpapi', 'apidoc', 'steward.postman_collection.json');
const adminEmail = 'contract-admin@example.com';

const results = []; // {name, ok, detail}
function record(name, ok, detail) {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? '  ' + detail : ''}`);
}

// freePort asks the kernel for an unused loopback port.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// call sends one API request to the server under test and parses JSON.
function call(base, key, method, p, body, headers = {}) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = https.request(base + p, {
      method,
      rejectUnauthorized: false, // the throwaway self-signed certificate
      timeout: 15000,
      headers: {
        Authorization: `Bearer ${key}`,
        Accept: 'application/json',
        ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
        ...headers,
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ status: 0, text: String(err), json: null }));
    if (data) req.write(data);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// startSteward builds the binary, creates credentials and serves HTTPS.
async function startSteward(tmp) {
  const bin = path.join(tmp, 'steward');
  execFileSync('go', ['build', '-o', bin, './cmd/steward'], { cwd: repo, stdio: 'inherit' });
  const cert = path.join(tmp, 'cert.pem');
  const key = path.join(tmp, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', key, '-out', cert], { stdio: ['ignore', 'ignore', 'pipe'] });
  const db = path.join(tmp, 'steward.db');
  const boot = JSON.parse(execFileSync(bin, ['bootstrap', '--db', db, '--email', adminEmail,
    '--tenant', 'Contract', '--json'], { encoding: 'utf8' }));
  const port = await freePort();
  const log = fs.openSync(path.join(tmp, 'serve.log'), 'w');
  // A throwaway instance admin secret turns on the Tyk-compatible /admin API.
  // The collection's "Replace a user's access key" is the admin resetting
  // another user's key, which Steward refuses by default (the Go contract
  // tests check that 403); allow it here so the request's 200 is checked.
  const adminSecret = crypto.randomBytes(16).toString('hex');
  const child = spawn(bin, ['serve', '--db', db, '--addr', `127.0.0.1:${port}`,
    '--tls-cert', cert, '--tls-key', key], {
    // Loopback is opened to HTTP Request actions: the collection's
    // "Unreachable" agent calls a closed local port to leave a retry job,
    // and the default egress policy would refuse it (a dead job at once).
    stdio: ['ignore', log, log],
    env: {
      ...process.env, STEWARD_ADMIN_SECRET: adminSecret, STEWARD_EGRESS_ALLOW: '127.0.0.0/8',
      STEWARD_TYK_FORBID_ADMIN_RESET_ACCESS_TOKEN: 'false',
    },
  });
  // Never leave the server behind, even when this script dies early.
  process.on('exit', () => { if (child.exitCode === null) child.kill('SIGTERM'); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));
  const base = `https://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`steward serve exited with ${child.exitCode}`);
    const r = await call(base, boot.api_key, 'GET', '/readyz');
    if (r.status === 200) break;
    if (i > 150) throw new Error(`steward did not become ready: ${r.status} ${r.text}`);
    await sleep(100);
  }
  return { child, base, port, apiKey: boot.api_key, email: boot.email, password: boot.password, userId: boot.user_id, adminSecret,
    log: path.join(tmp, 'serve.log') };
}

// tinesItems flattens the collection into [{name, item}] in file order.
function tinesItems(items, prefix = []) {
  return items.flatMap((it) => (it.item
    ? tinesItems(it.item, [...prefix, it.name])
    : [{ name: [...prefix, it.name].join(' / '), item: it }]));
}

// tinesBody returns the JSON body of the collection request with that name.
function tinesBody(collection, name) {
  const found = tinesItems(collection.item).find((x) => x.item.name === name);
  if (!found) throw new Error(`the Tines collection has no request named "${name}"`);
  return JSON.parse(found.item.request.body.raw);
}

// Seeder creates the live objects the collection's variables point at.
class Seeder {
  constructor(srv, tines) {
    this.srv = srv;
    this.tines = tines;
    this.n = 0;
    this.vars = {};
  }

  // create POSTs body and returns the new object's id, or "0" after
  // recording the failure (the requests using it then fail too).
  async create(what, p, body) {
    const r = await call(this.srv.base, this.srv.apiKey, 'POST', p, body);
    const id = r.json && r.json.id;
    if (r.status < 200 || r.status > 299 || id === undefined || id === null) {
      record(`seed: ${what} (POST ${p})`, false, `status ${r.status}: ${r.text.trim().slice(0, 300)}`);
      return '0';
    }
    return String(id);
  }

  user() {
    this.n += 1;
    return this.create('user', '/api/v1/admin/users',
      { email: `seed-${this.n}@example.com`, first_name: 'Seed', last_name: `User ${this.n}` });
  }

  agent(storyID) {
    this.n += 1;
    const body = tinesBody(this.tines, 'Create event transformation agent');
    body.name = `Seed agent ${this.n}`;
    body.story_id = Number(storyID);
    body.options = { mode: 'message_only', message: 'hello from the contract run' };
    return this.create('agent', '/api/v1/agents', body);
  }

  template() {
    this.n += 1;
    const body = tinesBody(this.tines, 'Create a private template');
    body.name = `Seed template ${this.n}`;
    return this.create('template', '/api/v1/admin/templates', body);
  }

  // event runs the agent and waits for the event it emits.
  async event(agentID) {
    if (agentID === '0') {
      record('seed: event', false, 'no agent to run: the agent seed failed');
      return '0';
    }
    const run = await call(this.srv.base, this.srv.apiKey, 'POST', `/api/v1/agents/${agentID}/run`);
    if (run.status < 200 || run.status > 299) {
      record(`seed: event (POST /api/v1/agents/${agentID}/run)`, false, `status ${run.status}: ${run.text.slice(0, 300)}`);
      return '0';
    }
    let last;
    for (let i = 0; i < 100; i++) {
      last = await call(this.srv.base, this.srv.apiKey, 'GET', `/api/v1/agents/${agentID}/events`);
      // The list is the response's array member, whatever its key.
      const events = last.json && Object.values(last.json).find(Array.isArray);
      if (events && events.length > 0 && events[0].id !== undefined) return String(events[0].id);
      await sleep(100);
    }
    record(`seed: event (GET /api/v1/agents/${agentID}/events)`, false,
      `no event after running the agent; last status ${last.status}: ${last.text.slice(0, 300)}`);
    return '0';
  }

  async all() {
    const story = await this.create('story', '/api/v1/stories', { name: 'Contract story' });
    if (story !== '0' && story !== '1') {
      console.log(`note: the seeded story has id ${story}; "Create event transformation agent" sends story_id 1`);
    }
    const agent = await this.agent(story);
    this.vars = {
      'tenant-name': `127.0.0.1:${this.srv.port}`,
      'api-token': this.srv.apiKey,
      'email-address': this.srv.email,
      'story-id': story,
      'agent-id': agent,
      'event-id': await this.event(agent),
      'template-id': await this.template(),
      'user-id': await this.user(),
    };
  }
}

// Requests that destroy their object get a fresh one, so the objects the
// other requests use stay alive.
const freshObjects = {
  'Delete a user': async (s) => ({ 'user-id': await s.user() }),
  'Delete agent': async (s) => ({ 'agent-id': await s.agent(s.vars['story-id']) }),
  "Remove agent's events": async (s) => ({ 'agent-id': await s.agent(s.vars['story-id']) }),
  'Delete a private template': async (s) => ({ 'template-id': await s.template() }),
};

const statusIs2xx = {
  listen: 'test',
  script: {
    type: 'text/javascript',
    exec: [
      'pm.test("status is 2xx", function () {',
      '    pm.expect(pm.response.code, "status").to.be.within(200, 299);',
      '});',
    ],
  },
};

function runNewman(collection, vars) {
  return new Promise((resolve, reject) => {
    newman.run({
      collection,
      envVar: Object.entries(vars).map(([key, value]) => ({ key, value })),
      insecure: true,
      reporters: [],
      timeoutRequest: 15000,
    }, (err, summary) => (err ? reject(err) : resolve(summary)));
  });
}

// describe turns one newman execution into a pass/fail line.
function describe(exec) {
  const code = exec.response ? exec.response.code : 0;
  const failed = (exec.assertions || []).filter((a) => a.error);
  const body = exec.response && exec.response.stream ? exec.response.stream.toString('utf8').trim().slice(0, 200) : '';
  if (exec.requestError) return { ok: false, detail: `request error: ${exec.requestError.message}` };
  if (!exec.assertions || exec.assertions.length === 0) return { ok: false, detail: `${code}: no test ran` };
  if (failed.length > 0) {
    return { ok: false, detail: `${code}: ${failed.map((a) => a.error.message).join('; ')}${body ? ' — ' + body : ''}` };
  }
  return { ok: true, detail: String(code) };
}

async function runTines(seeder, tines) {
  for (const { name, item } of tinesItems(tines.item)) {
    const fresh = freshObjects[item.name] ? await freshObjects[item.name](seeder) : {};
    const single = {
      info: { ...tines.info, name: `Tines: ${name}` },
      item: [{ ...item, event: [...(item.event || []), statusIs2xx] }],
    };
    const summary = await runNewman(single, { ...seeder.vars, ...fresh });
    const execs = summary.run.executions;
    if (execs.length !== 1) {
      record(`Tines / ${name}`, false, `${execs.length} requests ran, want 1`);
      continue;
    }
    const { ok, detail } = describe(execs[0]);
    record(`Tines / ${name}`, ok, detail);
  }
}

// invite creates a user without a password and returns the invitation
// token from the emailed link. With no SMTP server configured, steward
// keeps the email in its outbox and writes it to its log.
async function invite(srv, email) {
  const r = await call(srv.base, srv.apiKey, 'POST', '/api/v1/admin/users', { email });
  if (r.status !== 201) throw new Error(`invite ${email}: ${r.status} ${r.text}`);
  for (let i = 0; i < 100; i++) {
    for (const line of fs.readFileSync(srv.log, 'utf8').split('\n')) {
      const m = line.includes(email) && line.match(/invitation_token=(inv_[A-Za-z0-9_-]+)/);
      if (m) return m[1];
    }
    await sleep(100);
  }
  throw new Error(`no invitation email for ${email} in ${srv.log}`);
}

async function runSteward(srv) {
  const collection = JSON.parse(fs.readFileSync(stewardFile, 'utf8'));
  // The collection's "Set a password" has the admin reset another user's
  // password on /api/users, which Tyk allows only with ResetPassword.
  const self = srv.userId.toString(16).padStart(24, '0');
  const grant = await call(srv.base, srv.apiKey, 'PUT', `/admin/users/${self}/actions/allow_reset_passwords`,
    undefined, { 'admin-auth': srv.adminSecret });
  if (grant.status !== 200) throw new Error(`grant ResetPassword: ${grant.status} ${grant.text}`);
  const invitationToken = await invite(srv, 'postman-invitee@example.com');
  const summary = await runNewman(collection, {
    baseUrl: srv.base, apiKey: srv.apiKey, adminSecret: srv.adminSecret,
    adminEmail: srv.email, adminPassword: srv.password, invitationToken,
  });
  for (const exec of summary.run.executions) {
    const { ok, detail } = describe(exec);
    record(`Steward / ${exec.item.name}`, ok, detail);
  }
  if (summary.run.executions.length === 0) record('Steward collection', false, 'no request ran');
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-contract-'));
  let srv;
  try {
    const tines = JSON.parse(fs.readFileSync(tinesFile, 'utf8'));
    srv = await startSteward(tmp);
    console.log(`steward is serving ${srv.base}`);
    const seeder = new Seeder(srv, tines);
    await seeder.all();
    await runTines(seeder, tines);
    await runSteward(srv);
  } catch (err) {
    record('contract run', false, err.stack || String(err));
  } finally {
    if (srv) {
      srv.child.kill('SIGTERM');
      await new Promise((r) => (srv.child.exitCode !== null ? r() : srv.child.once('exit', r)));
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  if (failed > 0) {
    const log = path.join(tmp, 'serve.log');
    if (fs.existsSync(log)) {
      const lines = fs.readFileSync(log, 'utf8').trimEnd().split('\n');
      console.log(`\nlast lines of the server log (${log}):\n${lines.slice(-15).join('\n')}`);
    }
  } else {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main();
