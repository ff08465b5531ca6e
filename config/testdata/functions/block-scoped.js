// let is cloudfront-js-2.0 only.
function handler(event) {
    let req = event.request;
    return req;
}
