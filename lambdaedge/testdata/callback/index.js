// A callback-style handler: (event, context, callback), answering later.
exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  setTimeout(() => {
    if (request.uri.endsWith('/fail')) {
      callback(new Error('failed through the callback'));
      return;
    }
    callback(null, { status: '200', body: `callback saw ${request.uri} as ${context.functionName}` });
  }, 1);
};
