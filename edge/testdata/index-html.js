// viewer-request (cloudfront-js-1.0): a directory URI gets its index
// document, so /docs/ and /docs/guide are served as .../index.html.
function handler(event) {
    var req = event.request;
    if (req.uri.charAt(req.uri.length - 1) === '/') {
        req.uri = req.uri + 'index.html';
    } else if (req.uri.lastIndexOf('.') < req.uri.lastIndexOf('/')) {
        req.uri = req.uri + '/index.html';
    }
    return req;
}
