// viewer-request (cloudfront-js-1.0): a handler that fails.
function handler(event) {
    throw new Error('no route for ' + event.request.uri);
}
