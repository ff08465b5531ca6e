// An ES module handler (package.json says "type": "module").
export const handle = async (event) => {
  const { request } = event.Records[0].cf;
  return {
    status: '200',
    headers: { 'x-module': [{ key: 'X-Module', value: 'esm' }] },
    body: `esm saw ${request.uri}`,
  };
};
