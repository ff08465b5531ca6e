// A function with a syntax error on line 4.
function handler(event) {
    var req = event.request;
    if (req.uri === '/' {
        req.uri = '/index.html';
    }
    return req;
}
