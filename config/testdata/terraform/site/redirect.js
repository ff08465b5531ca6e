import cf from 'cloudfront';

const kvs = cf.kvs();

async function handler(event) {
    const key = event.request.uri.substring('/go/'.length);
    let target;
    try {
        target = await kvs.get(key);
    } catch (e) {
        return { statusCode: 404, statusDescription: 'Not Found' };
    }
    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: target } } };
}
