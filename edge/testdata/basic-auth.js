// viewer-request (cloudfront-js-2.0): HTTP Basic authentication against a
// fixed user, with Buffer decoding the credentials.
const expected = { user: 'ada', pass: 'lovelace' };

function handler(event) {
    const auth = event.request.headers['authorization'];
    if (auth && auth.value.startsWith('Basic ')) {
        const [user, pass] = Buffer.from(auth.value.slice(6), 'base64').toString('utf8').split(':');
        if (user === expected.user && pass === expected.pass) {
            event.request.headers['x-user'] = { value: Buffer.from(user).toString('hex') };
            return event.request;
        }
    }
    return {
        statusCode: 401,
        statusDescription: 'Unauthorized',
        headers: { 'www-authenticate': { value: 'Basic realm="edge"' } }
    };
}
