// viewer-request (cloudfront-js-2.0): the key value store says which
// theme a path prefix uses; the edge answers with it in a header.
import cf from 'cloudfront';

const store = cf.kvs();

async function handler(event) {
    const section = event.request.uri.split('/')[2] || 'home';
    let theme = 'plain';
    if (await store.exists('theme:' + section)) {
        const conf = await store.get('theme:' + section, { format: 'json' });
        theme = conf.name;
    }
    return {
        statusCode: 200,
        headers: { 'x-theme': { value: theme }, 'content-type': { value: 'text/plain' } },
        body: 'theme ' + theme
    };
}
