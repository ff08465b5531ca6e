// viewer-request (cloudfront-js-1.0): the 1.0 byte-string helpers.
var crypto = require('crypto');

function handler(event) {
    var out = {
        fromArray: String.bytesFrom([104, 105]),
        fromHex: String.bytesFrom('6869', 'hex'),
        fromBase64: String.bytesFrom('aGk=', 'base64'),
        euroBytes: '\u20ac'.toUTF8().length,
        euroBack: '\u20ac'.toUTF8().fromUTF8(),
        notBytes: '\u20ac'.toBytes(),
        range: 'abcdef'.toBytes(1, 3),
        badUTF8: String.bytesFrom([255]).fromUTF8(),
        digestLength: crypto.createHash('sha256').update('x').digest().length
    };
    return { statusCode: 200, body: JSON.stringify(out) };
}
