// viewer-request (cloudfront-js-1.0): everything under /old/ moved to
// /new/; the answer is made at the edge and the origin is never asked.
function handler(event) {
    var rest = event.request.uri.substring('/old/'.length);
    var qs = event.request.querystring;
    var keys = Object.keys(qs);
    var query = '';
    for (var i = 0; i < keys.length; i++) {
        query += (i === 0 ? '?' : '&') + keys[i] + '=' + qs[keys[i]].value;
    }
    return {
        statusCode: 302,
        statusDescription: 'Found',
        headers: {
            'location': { value: '/new/' + rest + query },
            'cache-control': { value: 'no-store' }
        }
    };
}
