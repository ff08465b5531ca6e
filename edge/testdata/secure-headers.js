// viewer-response (cloudfront-js-1.0): security headers on every answer.
function handler(event) {
    var h = event.response.headers;
    h['strict-transport-security'] = { value: 'max-age=63072000; includeSubDomains' };
    h['x-content-type-options'] = { value: 'nosniff' };
    return event.response;
}
