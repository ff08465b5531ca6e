exports.handler = async (e) => e.Records[0].cf.request;
