// viewer-request (cloudfront-js-1.0): changes the read-only Via header.
function handler(event) {
    event.request.headers['via'] = { value: '1.1 my-proxy' };
    return event.request;
}
