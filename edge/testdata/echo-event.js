// viewer-request (cloudfront-js-1.0): answers with the event it got, as JSON.
function handler(event) {
    return { statusCode: 200, body: JSON.stringify(event) };
}
