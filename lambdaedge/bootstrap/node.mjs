// edgefront's Lambda@Edge worker for Node.js: loads one handler and runs it
// for each request edgefront sends. The protocol is newline-delimited JSON:
// requests arrive on fd 3, results leave on fd 4, so that the handler's own
// console output (fd 1 and 2) goes to edgefront's log untouched.
//
// argv: codeDir handler functionName functionArn
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

const [codeDir, handlerSpec, functionName, functionArn] = process.argv.slice(2);

function send(msg) {
  fs.writeSync(4, JSON.stringify(msg) + '\n');
}

function errorOf(e) {
  if (e instanceof Error) {
    return { errorType: e.name || 'Error', errorMessage: String(e.message) };
  }
  return { errorType: typeof e, errorMessage: String(e) };
}

async function load() {
  const dot = handlerSpec.lastIndexOf('.');
  const file = handlerSpec.slice(0, dot);
  const fn = handlerSpec.slice(dot + 1);
  const base = path.resolve(codeDir, file);
  const found = ['.js', '.mjs', '.cjs', ''].map((ext) => base + ext).find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
  if (!found) {
    throw new Error(`cannot find the module ${file} (.js, .mjs or .cjs) in ${codeDir}`);
  }
  const mod = await import(pathToFileURL(found).href);
  const h = mod[fn] ?? mod.default?.[fn];
  if (typeof h !== 'function') {
    throw new Error(`${found} does not export a function ${fn}`);
  }
  return h;
}

function run(handler, req) {
  const deadline = Date.now() + req.timeoutMs;
  const context = {
    functionName,
    functionVersion: functionArn.split(':')[7] ?? '$LATEST',
    invokedFunctionArn: functionArn,
    awsRequestId: req.requestId,
    memoryLimitInMB: '128',
    logGroupName: `/aws/lambda/us-east-1.${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: true,
  };
  return new Promise((resolve, reject) => {
    const callback = (err, value) => (err != null ? reject(err) : resolve(value));
    let r;
    try {
      r = handler(req.event, context, callback);
    } catch (e) {
      reject(e);
      return;
    }
    if (r && typeof r.then === 'function') {
      r.then(resolve, reject);
    } else if (handler.length < 3) {
      resolve(r);
    }
  });
}

let handler;
try {
  handler = await load();
} catch (e) {
  send({ ready: false, error: errorOf(e) });
  process.exit(1);
}
send({ ready: true });

const rl = readline.createInterface({ input: fs.createReadStream(null, { fd: 3 }), crlfDelay: Infinity });
let queue = Promise.resolve();
rl.on('line', (line) => {
  queue = queue.then(async () => {
    const req = JSON.parse(line);
    try {
      const result = await run(handler, req);
      send({ id: req.id, result: result === undefined ? null : result });
    } catch (e) {
      send({ id: req.id, error: errorOf(e) });
    }
  });
});
rl.on('close', () => process.exit(0));
