import cf from 'cloudfront';

// Routes by the first path segment: the test's origins are "blue" (the
// behaviour's target) and "green".
function handler(event) {
	var first = event.request.uri.split('/')[1];
	if (first === 'by-domain') {
		cf.updateRequestOrigin({domainName: 'green.example.com', originPath: '/moved', customHeaders: {'x-routed-by': 'function'}});
	} else if (first === 'by-id') {
		cf.selectRequestOriginById('green');
	} else if (first === 'group') {
		cf.createRequestOriginGroup({originIds: ['blue', 'green'], failoverCriteria: {statusCodes: [503]}});
	} else if (first === 'bad-id') {
		cf.selectRequestOriginById('purple');
	}
	return event.request;
}
