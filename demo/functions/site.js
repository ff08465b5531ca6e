// demo-site: the embedded demo's viewer-request function (cloudfront-js-2.0),
// on the default behaviour.
//
//   /go/NAME      a redirect to the URL the key value store holds for NAME
//                 (302), or 404 when it has none
//   /dir/         /dir/index.html: S3's REST endpoint has no index documents
//   /dir          /dir/index.html when the last segment has no extension
import cf from 'cloudfront';

const redirects = cf.kvs();

async function handler(event) {
    const request = event.request;
    const uri = request.uri;
    if (uri.startsWith('/go/')) {
        const name = uri.slice('/go/'.length);
        if (await redirects.exists(name)) {
            const target = await redirects.get(name);
            return {
                statusCode: 302,
                statusDescription: 'Found',
                headers: { location: { value: target }, 'cache-control': { value: 'max-age=60' } },
            };
        }
        return {
            statusCode: 404,
            statusDescription: 'Not Found',
            headers: { 'content-type': { value: 'text/plain; charset=utf-8' } },
            body: 'no redirect named "' + name + '"\n',
        };
    }
    const last = uri.slice(uri.lastIndexOf('/') + 1);
    if (last === '') {
        request.uri = uri + 'index.html';
    } else if (!last.includes('.')) {
        request.uri = uri + '/index.html';
    }
    return request;
}
