// Turns an answer into a 410 for paths under /gone/, keeping the headers.
function handler(event) {
	var response = event.response;
	if (event.request.uri.indexOf('/gone/') === 0) {
		response.statusCode = 410;
		response.statusDescription = 'Gone';
		response.headers['x-status-by'] = {value: 'function'};
	}
	return response;
}
