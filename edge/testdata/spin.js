// viewer-request (cloudfront-js-1.0): a handler that never returns.
function handler(event) {
    var n = 0;
    for (;;) {
        n++;
    }
}
