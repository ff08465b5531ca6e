// A viewer-request function that passes the request through.
function handler(event) {
    return event.request;
}
