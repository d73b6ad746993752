// The official `openai` npm client against `exe --serve` (loopback only,
// free ports picked by the server, every server killed at the end).
//   node openai_client.mjs EXE DIR
// DIR holds the executable's own greedy outputs (see openai-client.test):
// the server must produce the same text. Prints PASS/FAIL lines and a
// summary; exits 1 on any failure.
// The CHECK lines (FileCheck reads this file, with --implicit-check-not=FAIL):
// every check by name, beside it, in the order the checks run.
import OpenAI from 'openai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [exe, dir] = process.argv.slice(2);
let passed = 0, failed = 0;
function check(ok, what) {
  console.log(`${ok ? 'PASS' : 'FAIL'}: ${what}`);
  if (ok) passed++; else failed++;
}
const expected = (name) =>
  fs.readFileSync(path.join(dir, name), 'utf8').replace(/\n$/, '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Servers: started with --port 0, the port read from the start-up line.
const servers = new Set();
process.on('exit', () => {
  for (const s of servers) s.proc.kill('SIGKILL');
});
function startServer(args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(exe, ['--serve', '--port', '0', ...args],
                       { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = { proc, log: '', exited: null };
    servers.add(server);
    const timer = setTimeout(() => reject(new Error('server start timeout')),
                             60000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      server.log += d;
      const m = server.log.match(/on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m && !server.port) {
        server.port = Number(m[1]);
        server.client = new OpenAI({
          apiKey: 'not-needed',
          baseURL: `http://127.0.0.1:${server.port}/v1`,
          maxRetries: 0,
          timeout: 120000,
        });
        clearTimeout(timer);
        resolve(server);
      }
    });
    server.done = new Promise((res) => proc.on('exit', (code, signal) => {
      server.exited = { code, signal };
      servers.delete(server);
      clearTimeout(timer);
      if (!server.port) reject(new Error('server exited: ' + server.log));
      res(server.exited);
    }));
  });
}
async function waitForLog(server, re, ms = 10000, step = 50) {
  for (let t = 0; t < ms; t += step) {
    const m = server.log.match(re);
    if (m) return m;
    await sleep(step);
  }
  return null;
}

const greedy = expected('greedy.txt'), greedy2 = expected('greedy2.txt');
const chatGreedy = expected('chat.txt');

async function main() {
  const s = await startServer();
  const c = s.client;

  const health = await (await fetch(`http://127.0.0.1:${s.port}/health`)).json();
  // CHECK: PASS: /health
  check(health.status === 'ok', '/health');
  const models = await c.models.list();
  // CHECK: PASS: models.list: [{{.*}}"hymba"
  check(models.data.length === 1 && models.data[0].id === 'hymba',
        `models.list: ${JSON.stringify(models.data)}`);

  // Completions: greedy text as the command line, usage counts.
  const comp = await c.completions.create(
      { model: 'hymba', prompt: 'And God said', max_tokens: 24, temperature: 0 });
  // CHECK: PASS: completion equals exe --prompt:
  check(comp.choices[0].text === greedy,
        `completion equals exe --prompt: ${JSON.stringify(comp.choices[0].text)}`);
  // CHECK: PASS: completion usage
  check(comp.object === 'text_completion' &&
        comp.usage.prompt_tokens === 4 &&
        comp.usage.completion_tokens === 24 && comp.usage.total_tokens === 28 &&
        comp.choices[0].finish_reason === 'length',
        `completion usage ${JSON.stringify(comp.usage)}, finish ` +
        comp.choices[0].finish_reason);

  // Chat: the model's chat template, as exe --chat --system.
  const messages = [{ role: 'system', content: 'Be brief.' },
                    { role: 'user', content: 'Who made the light?' }];
  const chat = await c.chat.completions.create(
      { model: 'hymba', messages, max_tokens: 24, temperature: 0 });
  // CHECK: PASS: chat equals exe --chat:
  check(chat.choices[0].message.role === 'assistant' &&
        chat.choices[0].message.content === chatGreedy,
        `chat equals exe --chat: ${JSON.stringify(chat.choices[0].message.content)}`);

  // Streamed chat: the same text in pieces, then finish_reason and usage.
  const stream = await c.chat.completions.create({
    model: 'hymba', messages, max_tokens: 24, temperature: 0, stream: true,
    stream_options: { include_usage: true } });
  let streamed = '', chunks = 0, finish = null, usage = null;
  console.log('TRANSCRIPT: streamed chat completion, one chunk a line:');
  for await (const chunk of stream) {
    // CHECK: TRANSCRIPT: {{.*}}"object":"chat.completion.chunk"
    console.log('TRANSCRIPT: ' + JSON.stringify(chunk));
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      streamed += ch.delta.content ?? '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  // CHECK: PASS: streamed chat: {{[0-9]+}} chunks, same text, finish length
  check(streamed === chatGreedy && chunks > 10 && finish === 'length',
        `streamed chat: ${chunks} chunks, same text, finish ${finish}`);
  // CHECK: PASS: streamed usage
  check(usage && usage.completion_tokens === 24 &&
        usage.prompt_tokens === chat.usage.prompt_tokens,
        `streamed usage ${JSON.stringify(usage)}`);

  // Streamed completion; stop strings; seeded sampling is reproducible.
  let text = '';
  for await (const chunk of await c.completions.create(
      { model: 'hymba', prompt: 'And God said', max_tokens: 24, temperature: 0,
        stream: true }))
    text += chunk.choices[0]?.text ?? '';
  // CHECK: PASS: streamed completion equals the non-streamed one
  check(text === greedy, 'streamed completion equals the non-streamed one');
  const stopAt = greedy.indexOf(' LORD');
  const stopped = await c.completions.create(
      { model: 'hymba', prompt: 'And God said', max_tokens: 24, temperature: 0,
        stop: [' LORD', 'never'] });
  // CHECK: PASS: stop:
  check(stopAt > 0 && stopped.choices[0].text === greedy.slice(0, stopAt) &&
        stopped.choices[0].finish_reason === 'stop',
        `stop: ${JSON.stringify(stopped.choices[0].text)}`);
  const sampled = [];
  for (const seed of [5, 5, 6])
    sampled.push((await c.completions.create(
        { model: 'hymba', prompt: 'And God said', max_tokens: 16,
          temperature: 0.9, top_p: 0.95, seed })).choices[0].text);
  // CHECK: PASS: seed:
  check(sampled[0] === sampled[1] && sampled[0] !== sampled[2],
        `seed: ${JSON.stringify(sampled)}`);

  // Bad requests: OpenAI-style errors the client turns into exceptions.
  const expectError = async (what, status, body, re) => {
    try {
      await c.completions.create(body);
      check(false, `${what}: no error`);
    } catch (e) {
      check(e instanceof OpenAI.APIError && e.status === status &&
            re.test(e.message),
            `${what}: ${e.status} ${e.message}`);
    }
  };
  // CHECK: PASS: prompt of the wrong type: 400
  await expectError('prompt of the wrong type', 400,
                    { model: 'hymba', prompt: 42 }, /prompt must be a string/);
  // CHECK: PASS: top_p out of range: 400
  await expectError('top_p out of range', 400,
                    { model: 'hymba', prompt: 'x', top_p: 3 }, /top_p/);
  // CHECK: PASS: negative max_tokens: 400
  await expectError('negative max_tokens', 400,
                    { model: 'hymba', prompt: 'x', max_tokens: -1 },
                    /max_tokens/);
  // CHECK: PASS: prompt longer than the model holds: 413
  await expectError('prompt longer than the model holds', 413,
                    { model: 'hymba', prompt: 'word '.repeat(400) },
                    /more than the 256 this model holds/);
  // CHECK: PASS: empty messages: 400
  try {
    await c.chat.completions.create({ model: 'hymba', messages: [] });
    check(false, 'empty messages: no error');
  } catch (e) {
    check(e.status === 400 && /messages/.test(e.message),
          `empty messages: ${e.status} ${e.message}`);
  }
  const raw = await fetch(`http://127.0.0.1:${s.port}/v1/completions`,
                          { method: 'POST', body: '{"prompt": "x",' });
  const rawBody = await raw.json();
  // CHECK: PASS: malformed JSON: 400
  check(raw.status === 400 && rawBody.error.type === 'invalid_request_error',
        `malformed JSON: ${raw.status} ${JSON.stringify(rawBody)}`);

  // Two concurrent clients: interleaved token by token (two sessions), each
  // with its own greedy text.
  const order = [];
  const run = async (tag, prompt) => {
    let t = '';
    for await (const chunk of await c.completions.create(
        { model: 'hymba', prompt, max_tokens: 24, temperature: 0,
          stream: true })) {
      order.push(tag);
      t += chunk.choices[0]?.text ?? '';
    }
    return t;
  };
  const [ta, tb] = await Promise.all([run('A', 'And God said'),
                                      run('B', 'In the beginning')]);
  let switches = 0;
  for (let i = 1; i < order.length; i++) switches += order[i] !== order[i - 1];
  // CHECK: PASS: two concurrent clients get their own greedy texts
  check(ta === greedy && tb === greedy2,
        'two concurrent clients get their own greedy texts');
  // CHECK: PASS: the two streams were interleaved
  check(switches >= 10,
        `the two streams were interleaved (${switches} switches): ` +
        order.join(''));

  // One session, no queue: a second request meanwhile gets 503; a client
  // that disconnects cancels its generation and frees the session.
  const one = await startServer(['--sessions', '1', '--queue', '0']);
  const ctrl = new AbortController();
  const long = await one.client.completions.create(
      { model: 'hymba', prompt: 'And God said', max_tokens: 200,
        temperature: 0, stream: true }, { signal: ctrl.signal });
  const it = long[Symbol.asyncIterator]();
  await it.next();
  // CHECK: PASS: busy server: 503
  try {
    await one.client.completions.create({ model: 'hymba', prompt: 'x' });
    check(false, 'busy server: no error');
  } catch (e) {
    check(e.status === 503 && /busy/.test(e.message),
          `busy server: ${e.status} ${e.message}`);
  }
  await it.next();
  ctrl.abort();
  const cancelled = await waitForLog(
      one, /cmpl-\d+: 4 prompt tokens, (\d+) generated, cancelled/);
  // CHECK: PASS: a streamed request stops when its client disconnects
  check(cancelled && Number(cancelled[1]) < 200,
        `a streamed request stops when its client disconnects (${
            cancelled ? cancelled[0] : one.log})`);
  const after = await one.client.completions.create(
      { model: 'hymba', prompt: 'And God said', max_tokens: 24,
        temperature: 0 });
  // CHECK: PASS: the freed session serves again
  check(after.choices[0].text === greedy, 'the freed session serves again');
  // Not streamed: the disconnect is noticed too. The client leaves once the
  // server has started generating (its log says so), not after a fixed
  // delay, in which a fast machine can finish all 200 tokens.
  const ctrl2 = new AbortController();
  const startedBefore = (one.log.match(/: started, /g) || []).length;
  const gone = fetch(`http://127.0.0.1:${one.port}/v1/completions`, {
    method: 'POST', signal: ctrl2.signal,
    body: JSON.stringify({ prompt: 'In the beginning', max_tokens: 200,
                           temperature: 0 }) }).catch(() => null);
  await waitForLog(one, new RegExp(`(?:: started, [^]*){${startedBefore + 1}}`),
                   10000, 2);
  ctrl2.abort();
  await gone;
  const cancelled2 = await waitForLog(
      one, /cmpl-\d+: 4 prompt tokens, (\d+) generated, cancelled[^]*cmpl-\d+: 4 prompt tokens, (\d+) generated, cancelled/);
  // CHECK: PASS: a non-streamed request stops when its client disconnects
  check(cancelled2 && Number(cancelled2[2]) < 200,
        'a non-streamed request stops when its client disconnects');
  one.proc.kill('SIGTERM');
  await one.done;

  // SIGTERM: the request in flight completes, new connections are refused,
  // the process exits 0.
  const inflight = await c.completions.create(
      { model: 'hymba', prompt: 'And God said', max_tokens: 100,
        temperature: 0, stream: true,
        stream_options: { include_usage: true } });
  let rest = '', lastUsage = null, first = true;
  for await (const chunk of inflight) {
    if (first) s.proc.kill('SIGTERM'); // after the first piece arrived
    first = false;
    rest += chunk.choices[0]?.text ?? '';
    if (chunk.usage) lastUsage = chunk.usage;
  }
  // CHECK: PASS: the request in flight at SIGTERM completes
  check(rest.startsWith(greedy) && lastUsage &&
        lastUsage.completion_tokens === 100,
        'the request in flight at SIGTERM completes');
  const exit = await s.done;
  // CHECK: PASS: SIGTERM: exit code 0
  check(exit.code === 0 && /server stopped/.test(s.log),
        `SIGTERM: exit code ${exit.code}, signal ${exit.signal}`);
  // CHECK: PASS: after SIGTERM: connection refused
  try {
    await fetch(`http://127.0.0.1:${s.port}/health`);
    check(false, 'after SIGTERM: still answering');
  } catch (e) {
    check(true, 'after SIGTERM: connection refused');
  }
}

try {
  await main();
} catch (e) {
  check(false, 'unexpected exception: ' + (e.stack || e));
} finally {
  for (const srv of servers) srv.proc.kill('SIGKILL');
}
// CHECK: {{^}}25 passed, 0 failed
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
