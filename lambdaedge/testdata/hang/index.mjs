// A handler that never answers on /hang (a promise that never settles and
// a busy timer), and answers otherwise.
export async function handler(event) {
  const request = event.Records[0].cf.request;
  if (request.uri.startsWith('/hang/forever')) {
    setInterval(() => {}, 1000);
    return new Promise(() => {});
  }
  return { status: '200', body: `answered by ${process.pid}` };
}
