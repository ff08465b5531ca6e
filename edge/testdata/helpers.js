// viewer-request (cloudfront-js-1.0): the crypto and querystring modules
// and the run's clock, answered as JSON.
var crypto = require('crypto');
var querystring = require('querystring');

function handler(event) {
    var out = {
        md5: crypto.createHash('md5').update('edge').digest('hex'),
        sha1: crypto.createHash('sha1').update('ed').update('ge').digest('base64'),
        sha256: crypto.createHash('sha256').update('edge').digest('base64url'),
        hmac: crypto.createHmac('sha256', 'key').update('edge').digest('hex'),
        parsed: querystring.parse('a=1&b=x%20y&a=2'),
        built: querystring.stringify({ q: 'a b', n: 3 }),
        t1: Date.now(),
        t2: new Date().getTime()
    };
    var spin = 0;
    for (var i = 0; i < 2000; i++) { spin += i; }
    out.t3 = Date.now();
    return { statusCode: 200, body: JSON.stringify(out) };
}
