// Asks for far more than CloudFront's 2 MB a run.
function handler(event) {
	var big = 'x'.repeat(100 * 1024 * 1024);
	event.request.headers['x-size'] = {value: String(big.length)};
	return event.request;
}
