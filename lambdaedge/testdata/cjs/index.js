'use strict';
// A CommonJS, async handler for every event type, acting on the uri; the
// tests in lambdaedge_test.go read what it does.

function text(status, body, extra) {
  return Object.assign({
    status: String(status),
    statusDescription: 'Made at the edge',
    headers: { 'content-type': [{ key: 'Content-Type', value: 'text/plain' }], 'cache-control': [{ key: 'Cache-Control', value: 'max-age=300' }] },
    body,
  }, extra || {});
}

async function viewerRequest(cf) {
  const req = cf.request;
  switch (req.uri) {
    case '/vr/rewrite':
      req.uri = '/rewritten';
      req.querystring = 'from=lambda';
      req.headers['x-added'] = [{ key: 'X-Added', value: 'by viewer-request' }];
      return req;
    case '/vr/event':
      console.log('echoing the event of', cf.config.requestId);
      return text(200, JSON.stringify(cf));
    case '/vr/generate':
      return text(200, 'made at the edge');
    case '/vr/base64':
      return text(200, Buffer.from('binary \u0000 body').toString('base64'), { bodyEncoding: 'base64' });
    case '/vr/throw':
      throw new TypeError('the handler broke');
    case '/vr/status-700':
      return text(700, 'no such status');
    case '/vr/disallowed':
      req.headers['x-cache'] = [{ key: 'X-Cache', value: 'Hit' }];
      return req;
    case '/vr/read-only':
      req.headers['host'] = [{ key: 'Host', value: 'elsewhere.example.com' }];
      return req;
    case '/vr/too-big':
      return text(200, 'x'.repeat(41 * 1024));
    case '/vr/not-an-object':
      return 'a string';
    case '/vr/method':
      req.method = 'DELETE';
      return req;
    case '/vr/body':
    {
      const data = Buffer.from(req.body.data, 'base64').toString();
      const { inputTruncated, action, encoding } = req.body;
      return text(200, JSON.stringify({ inputTruncated, action, encoding, length: data.length, head: data.slice(0, 8) }));
    }
    case '/vr/replace-body':
      req.body.action = 'replace';
      req.body.encoding = 'text';
      req.body.data = 'replaced body';
      return req;
  }
  return req;
}

async function originRequest(cf) {
  const req = cf.request;
  switch (req.uri) {
    case '/or/generate':
      return text(200, 'generated at origin-request');
    case '/or/move':
      req.origin.custom.domainName = 'api.example.com';
      req.headers['host'] = [{ key: 'Host', value: 'api.example.com' }];
      return req;
    case '/or/event':
      return text(200, JSON.stringify(cf));
  }
  req.headers['x-origin-request'] = [{ key: 'X-Origin-Request', value: 'yes' }];
  return req;
}

async function originResponse(cf) {
  const res = cf.response;
  if (res.status === '404') {
    return text(200, 'the 404 replaced');
  }
  res.headers['x-origin-response'] = [{ key: 'X-Origin-Response', value: res.status }];
  return res;
}

async function viewerResponse(cf) {
  const res = cf.response;
  res.headers['x-viewer-response'] = [{ key: 'X-Viewer-Response', value: 'yes' }];
  res.status = '201'; // ignored: viewer-response cannot change the status
  return res;
}

exports.handler = async (event) => {
  const cf = event.Records[0].cf;
  switch (cf.config.eventType) {
    case 'viewer-request': return viewerRequest(cf);
    case 'origin-request': return originRequest(cf);
    case 'origin-response': return originResponse(cf);
    default: return viewerResponse(cf);
  }
};
