// viewer-response (cloudfront-js-1.0): puts the event it got, as JSON, in a
// header and returns the response unchanged otherwise.
function handler(event) {
    event.response.headers['x-event'] = { value: JSON.stringify(event) };
    return event.response;
}
