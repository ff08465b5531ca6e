// viewer-request (cloudfront-js-1.0): what CloudFront Functions do not
// have — eval, the Function constructor, timers — answered as JSON.
function handler(event) {
    var out = {};
    out.evalType = typeof eval;
    try { Function('return 1')(); out.fn = 'ran'; } catch (e) { out.fn = 'refused'; }
    try { (function () {}).constructor('return 1')(); out.ctor = 'ran'; } catch (e) { out.ctor = 'refused'; }
    out.timers = typeof setTimeout;
    out.isFunction = (function () {}) instanceof Function;
    console.log('sandbox checked', event.request.uri);
    return { statusCode: 200, body: JSON.stringify(out) };
}
