function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.endsWith('/')) {
        request.uri = uri + 'index.html';
    } else if (uri.startsWith('/fn/')) {
        request.uri = uri.substring(3);
    }
    return request;
}
