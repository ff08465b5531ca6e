// viewer-request (cloudfront-js-1.0): logs the URI it rewrites.
function handler(event) {
    console.log('rewriting ' + event.request.uri);
    event.request.uri += 'index.html';
    return event.request;
}
